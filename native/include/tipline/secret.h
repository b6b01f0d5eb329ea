// Key material in memory: a heap buffer that is wiped (OPENSSL_cleanse) when
// it is destroyed, overwritten or moved from.
//
// The bytes are reachable only through RevealSecretBytes(): grep for it to
// find every place that touches raw key material. Nothing may log, print or
// put those bytes in an error message.
#ifndef TIPLINE_SECRET_H_
#define TIPLINE_SECRET_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tipline/status.h"

namespace tipline {

class SecretBytes {
 public:
  SecretBytes() = default;
  // Zero-filled secret of `size` bytes.
  explicit SecretBytes(size_t size);
  // Copies `bytes`; the caller still owns (and should wipe) its copy.
  static SecretBytes CopyFrom(std::string_view bytes);
  // `size` bytes from the CSPRNG (RandomBytes).
  [[nodiscard]] static Result<SecretBytes> Random(size_t size);

  ~SecretBytes();
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // THE accessor for raw secret bytes. Every call site is a place where key
  // material leaves this buffer: keep them few and never log what they return.
  uint8_t* RevealSecretBytes() noexcept { return data_; }
  const uint8_t* RevealSecretBytes() const noexcept { return data_; }

  // Constant-time equality (CRYPTO_memcmp); different sizes are unequal.
  bool ConstantTimeEquals(const SecretBytes& other) const noexcept;

 private:
  void Wipe() noexcept;

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tipline

#endif  // TIPLINE_SECRET_H_
