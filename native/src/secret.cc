#include "tipline/secret.h"

#include <openssl/crypto.h>

#include <cstring>
#include <new>
#include <utility>

#include "tipline/random.h"

namespace tipline {

SecretBytes::SecretBytes(size_t size) : size_(size) {
  if (size_ > 0) data_ = new uint8_t[size_]();
}

SecretBytes SecretBytes::CopyFrom(std::string_view bytes) {
  SecretBytes secret(bytes.size());
  if (!bytes.empty()) std::memcpy(secret.data_, bytes.data(), bytes.size());
  return secret;
}

Result<SecretBytes> SecretBytes::Random(size_t size) {
  SecretBytes secret(size);
  Status status = RandomBytes(secret.data_, size);
  if (!status.ok()) return status;
  return secret;
}

SecretBytes::~SecretBytes() { Wipe(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

bool SecretBytes::ConstantTimeEquals(const SecretBytes& other) const noexcept {
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return CRYPTO_memcmp(data_, other.data_, size_) == 0;
}

void SecretBytes::Wipe() noexcept {
  if (data_ != nullptr) {
    OPENSSL_cleanse(data_, size_);
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

}  // namespace tipline
