// Field encryption: the AEAD that Tipline uses for every encrypted column.
//
// Encrypt() takes plaintext and associated data and nothing else: the IV
// comes from the CSPRNG (BufferedRandomBytes) and the output has the one
// format of tipline/ciphertext_format.h. The associated data must name where
// the ciphertext lives (model, field, record id), so a ciphertext copied to
// another row or column does not decrypt; it may not be empty.
//
// Decrypt() fails with kDecryptionFailed and the single message "decryption
// failed" whatever went wrong: malformed or truncated input, unknown,
// disabled or destroyed key, wrong associated data, tampering.
//
// A FieldCipher shares its Keyset (it does not copy it): a Rotate() is used
// by the next Encrypt(), a Disable() or Destroy() stops the next Decrypt().
// Thread safety: one FieldCipher may be used from any number of threads.
#ifndef TIPLINE_FIELD_CIPHER_H_
#define TIPLINE_FIELD_CIPHER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tipline/ciphertext_format.h"
#include "tipline/keyset.h"
#include "tipline/status.h"

namespace tipline {

class FieldCipher {
 public:
  // Larger plaintexts are refused (kInvalidArgument): fields are small, and
  // this keeps every size far below AES-GCM's per-message limit.
  static constexpr size_t kMaxPlaintextSize = size_t{1} << 30;

  // `keyset` must not be null.
  explicit FieldCipher(std::shared_ptr<Keyset> keyset);

  static constexpr size_t CiphertextSize(size_t plaintext_size) {
    return plaintext_size + kCiphertextOverhead;
  }

  // Encrypts into out[0, CiphertextSize(plaintext.size())); out_size must be
  // exactly that. On failure out is zeroed.
  [[nodiscard]] Status EncryptInto(std::string_view plaintext,
                                   std::string_view associated_data,
                                   uint8_t* out, size_t out_size) const;
  [[nodiscard]] Result<std::string> Encrypt(
      std::string_view plaintext, std::string_view associated_data) const;

  // Decrypts into out[0, ciphertext.size() - kCiphertextOverhead); out_size
  // must be exactly that (ciphertexts shorter than the overhead fail before
  // out is touched). On failure out is zeroed.
  [[nodiscard]] Status DecryptInto(std::string_view ciphertext,
                                   std::string_view associated_data,
                                   uint8_t* out, size_t out_size) const;
  [[nodiscard]] Result<std::string> Decrypt(
      std::string_view ciphertext, std::string_view associated_data) const;

  const std::shared_ptr<Keyset>& keyset() const noexcept { return keyset_; }

 private:
  std::shared_ptr<Keyset> keyset_;
};

}  // namespace tipline

#endif  // TIPLINE_FIELD_CIPHER_H_
