#include "tipline/master_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace tipline {
namespace {

const std::string kHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

std::string Bytes(const SecretBytes& key) {
  return std::string(reinterpret_cast<const char*>(key.RevealSecretBytes()),
                     key.size());
}

std::string Expected() {
  std::string out;
  for (int i = 0; i < 32; ++i) out.push_back(static_cast<char>(i));
  return out;
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/tipline-key-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& contents,
               mode_t mode) {
  std::ofstream(path, std::ios::binary) << contents;
  ASSERT_EQ(chmod(path.c_str(), mode), 0);
}

TEST(MasterKeyTest, ParsesHexAndBase64) {
  EXPECT_EQ(Bytes(ParseMasterKey(kHex).value()), Expected());
  std::string upper = kHex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(Bytes(ParseMasterKey("  " + upper + "\n").value()), Expected());
  // base64 of bytes 0..31, standard (padded) and URL-safe (unpadded).
  EXPECT_EQ(Bytes(ParseMasterKey(
                      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
                      .value()),
            Expected());
  EXPECT_EQ(
      Bytes(ParseMasterKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
                .value()),
      Expected());
}

TEST(MasterKeyTest, RejectsOtherText) {
  for (const std::string& text :
       {std::string(), std::string("   "), kHex.substr(1), kHex + "0",
        kHex.substr(0, 63) + "g",
        std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9="),  // bits
        std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*")}) {
    Result<SecretBytes> key = ParseMasterKey(text);
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(key.status().message().find(text.empty() ? "\x01" : text),
              std::string::npos)
        << "the error never echoes the input";
  }
}

TEST(MasterKeyTest, CreateThenLoad) {
  TempDir dir;
  const std::string path = dir.File("master.key");
  ASSERT_TRUE(CreateMasterKeyFile(path).ok());
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_size, 65);
  Result<SecretBytes> key = LoadMasterKeyFile(path);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key.value().size(), 32u);
  // No temporary file is left behind.
  EXPECT_EQ(std::system(("test $(ls -A '" + dir.File("") + "' | wc -l) -eq 1")
                            .c_str()),
            0);
}

TEST(MasterKeyTest, WriteKeepsTheGivenKeyAndNeverReplaces) {
  TempDir dir;
  const std::string path = dir.File("k");
  const SecretBytes key = ParseMasterKey(kHex).value();
  ASSERT_TRUE(WriteMasterKeyFile(path, key).ok());
  EXPECT_EQ(Bytes(LoadMasterKeyFile(path).value()), Expected());
  EXPECT_EQ(CreateMasterKeyFile(path).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Bytes(LoadMasterKeyFile(path).value()), Expected());
  EXPECT_EQ(WriteMasterKeyFile(dir.File("short"), SecretBytes(16)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateMasterKeyFile(dir.File("no/such/dir")).code(),
            StatusCode::kInvalidArgument);
}

TEST(MasterKeyTest, LoadRefusesLooseModes) {
  if (geteuid() == 0) {
    // root reads any file, but the mode check does not depend on that.
  }
  TempDir dir;
  const std::string path = dir.File("k");
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601}) {
    WriteFile(path, kHex + "\n", mode);
    Result<SecretBytes> key = LoadMasterKeyFile(path);
    ASSERT_EQ(key.status().code(), StatusCode::kInvalidArgument) << mode;
    EXPECT_NE(key.status().message().find("chmod 600"), std::string::npos);
  }
  WriteFile(path, kHex + "\n", 0400);
  EXPECT_TRUE(LoadMasterKeyFile(path).ok());
}

TEST(MasterKeyTest, LoadRefusesBadContents) {
  TempDir dir;
  const std::string path = dir.File("k");
  for (const std::string& contents :
       {std::string(), kHex, kHex + "\n\n", kHex + " \n", kHex.substr(2) + "\n",
        std::string(32, 'A')}) {
    WriteFile(path, contents, 0600);
    Result<SecretBytes> key = LoadMasterKeyFile(path);
    if (contents == kHex) {  // the final newline is optional
      EXPECT_TRUE(key.ok());
      continue;
    }
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(LoadMasterKeyFile(dir.File("missing")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(LoadMasterKeyFile(dir.File("")).status().code(),
            StatusCode::kInvalidArgument);  // a directory
}

}  // namespace
}  // namespace tipline
