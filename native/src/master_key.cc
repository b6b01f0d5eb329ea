#include "tipline/master_key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "tipline/random.h"

namespace tipline {
namespace {

constexpr size_t kHexSize = 2 * kMasterKeySize;  // 64

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 64 hex characters -> key; false (key untouched) otherwise.
bool DecodeHex(std::string_view text, SecretBytes* key) {
  if (text.size() != kHexSize) return false;
  SecretBytes out(kMasterKeySize);
  uint8_t* bytes = out.RevealSecretBytes();
  for (size_t i = 0; i < kMasterKeySize; ++i) {
    const int high = HexValue(text[2 * i]);
    const int low = HexValue(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    bytes[i] = static_cast<uint8_t>(high << 4 | low);
  }
  *key = std::move(out);
  return true;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Canonical base64 of exactly 32 bytes (43 symbols, "=" optional).
bool DecodeBase64(std::string_view text, SecretBytes* key) {
  if (text.size() == 44 && text.back() == '=') text.remove_suffix(1);
  if (text.size() != 43) return false;
  SecretBytes out(kMasterKeySize);
  uint8_t* bytes = out.RevealSecretBytes();
  uint32_t bits = 0;
  int bit_count = 0;
  size_t written = 0;
  for (char c : text) {
    const int value = Base64Value(c);
    if (value < 0) return false;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      bytes[written++] = static_cast<uint8_t>(bits >> bit_count);
      bits &= (1u << bit_count) - 1;
    }
  }
  // 43 * 6 = 258 bits: the last 2 must be zero in canonical base64.
  if (written != kMasterKeySize || bits != 0) return false;
  *key = std::move(out);
  return true;
}

std::string ErrnoText(int error) { return std::strerror(error); }

std::string Octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool WriteAll(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<SecretBytes> NewMasterKey() { return SecretBytes::Random(kMasterKeySize); }

Result<SecretBytes> ParseMasterKey(std::string_view text) {
  const char* kSpace = " \t\r\n";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return InvalidArgumentError("the master key is empty");
  }
  text = text.substr(first, text.find_last_not_of(kSpace) - first + 1);
  SecretBytes key;
  if (DecodeHex(text, &key) || DecodeBase64(text, &key)) return key;
  return InvalidArgumentError(
      "the master key must be 64 hexadecimal characters or 32 bytes in "
      "base64");
}

Result<SecretBytes> LoadMasterKeyFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) {
      return NotFoundError("the key file " + path + " does not exist");
    }
    return InvalidArgumentError("cannot open the key file " + path + ": " +
                                ErrnoText(error));
  }
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    const int error = errno;
    close(fd);
    return InvalidArgumentError("cannot stat the key file " + path + ": " +
                                ErrnoText(error));
  }
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    return InvalidArgumentError("the key file " + path +
                                " is not a regular file");
  }
  if ((info.st_mode & 077) != 0) {
    close(fd);
    return InvalidArgumentError(
        "the key file " + path + " is accessible by group or others (mode " +
        Octal(info.st_mode) + "); run: chmod 600 " + path);
  }
  // One byte more than the longest valid file, to see a longer one.
  SecretBytes contents(kHexSize + 2);
  uint8_t* buffer = contents.RevealSecretBytes();
  size_t size = 0;
  while (size < contents.size()) {
    const ssize_t n = read(fd, buffer + size, contents.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      close(fd);
      return InvalidArgumentError("cannot read the key file " + path + ": " +
                                  ErrnoText(error));
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  close(fd);
  std::string_view text(reinterpret_cast<const char*>(buffer), size);
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  SecretBytes key;
  if (!DecodeHex(text, &key)) {
    return InvalidArgumentError(
        "the key file " + path +
        " must hold exactly 64 hexadecimal characters and a newline");
  }
  return key;
}

Status WriteMasterKeyFile(const std::string& path,
                          const SecretBytes& master_key) {
  if (master_key.size() != kMasterKeySize) {
    return InvalidArgumentError("the master key must be 32 bytes");
  }
  if (path.empty()) return InvalidArgumentError("the key file path is empty");
  const size_t slash = path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string base =
      slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") {
    return InvalidArgumentError("the key file path " + path +
                                " does not name a file");
  }
  uint8_t nonce[8];
  Status status = RandomBytes(nonce, sizeof(nonce));
  if (!status.ok()) return status;
  std::string temporary = directory + "/." + base + ".tmp-";
  static const char kHexDigits[] = "0123456789abcdef";
  for (uint8_t byte : nonce) {
    temporary.push_back(kHexDigits[byte >> 4]);
    temporary.push_back(kHexDigits[byte & 15]);
  }

  const int fd = open(temporary.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
  if (fd < 0) {
    return InvalidArgumentError("cannot create a key file in " + directory +
                                ": " + ErrnoText(errno));
  }
  SecretBytes text(kHexSize + 1);
  uint8_t* out = text.RevealSecretBytes();
  const uint8_t* key = master_key.RevealSecretBytes();
  for (size_t i = 0; i < kMasterKeySize; ++i) {
    out[2 * i] = static_cast<uint8_t>(kHexDigits[key[i] >> 4]);
    out[2 * i + 1] = static_cast<uint8_t>(kHexDigits[key[i] & 15]);
  }
  out[kHexSize] = '\n';
  // fchmod: the mode is 0600 whatever the umask.
  bool ok = fchmod(fd, 0600) == 0 && WriteAll(fd, out, text.size()) &&
            fsync(fd) == 0;
  int error = ok ? 0 : errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (!ok) {
    unlink(temporary.c_str());
    return InvalidArgumentError("cannot write the key file " + path + ": " +
                                ErrnoText(error));
  }
  // link() never replaces an existing file: the atomic no-clobber publish.
  if (link(temporary.c_str(), path.c_str()) != 0) {
    error = errno;
    unlink(temporary.c_str());
    if (error == EEXIST) {
      return FailedPreconditionError("the key file " + path +
                                     " already exists; it was not replaced");
    }
    return InvalidArgumentError("cannot create the key file " + path + ": " +
                                ErrnoText(error));
  }
  unlink(temporary.c_str());
  // Make the new directory entry durable (best effort).
  const int directory_fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd >= 0) {
    fsync(directory_fd);
    close(directory_fd);
  }
  return Status::Ok();
}

Status CreateMasterKeyFile(const std::string& path) {
  Result<SecretBytes> key = NewMasterKey();
  if (!key.ok()) return key.status();
  return WriteMasterKeyFile(path, key.value());
}

}  // namespace tipline
