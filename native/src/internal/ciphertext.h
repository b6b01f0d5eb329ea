// Sealing and opening one value in the format of tipline/ciphertext_format.h
// under one AES-256-GCM key: what FieldCipher (a keyset key) and DataKey (a
// record's key) share. Callers choose the key and the key id.
#ifndef TIPLINE_INTERNAL_CIPHERTEXT_H_
#define TIPLINE_INTERNAL_CIPHERTEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "internal/aes_gcm.h"
#include "tipline/ciphertext_format.h"
#include "tipline/status.h"

namespace tipline::internal {

// Checks the sizes and the associated data (kInvalidArgument), draws the IV
// from the CSPRNG, writes the prefix with key_id and seals plaintext into
// out[0, out_size). On failure out is zeroed.
[[nodiscard]] Status SealCiphertext(const AesGcm256& aead, uint32_t key_id,
                                    std::string_view plaintext,
                                    std::string_view associated_data,
                                    uint8_t* out, size_t out_size);

// True when ciphertext (whose size and version the caller checked) opens
// under aead with associated_data into out[0, ciphertext.size() -
// kCiphertextOverhead); out is zeroed otherwise.
[[nodiscard]] bool OpenCiphertext(const AesGcm256& aead,
                                  std::string_view ciphertext,
                                  std::string_view associated_data,
                                  uint8_t* out);

// Cipher::EncryptInto and DecryptInto into a new string: what FieldCipher's
// and DataKey's Encrypt and Decrypt return.
template <class Cipher>
Result<std::string> EncryptToString(const Cipher& cipher,
                                    std::string_view plaintext,
                                    std::string_view associated_data) {
  if (plaintext.size() > Cipher::kMaxPlaintextSize) {
    return InvalidArgumentError("the plaintext is larger than 1 GiB");
  }
  std::string out(plaintext.size() + kCiphertextOverhead, '\0');
  Status status = cipher.EncryptInto(plaintext, associated_data,
                                     reinterpret_cast<uint8_t*>(out.data()),
                                     out.size());
  if (!status.ok()) return status;
  return out;
}

template <class Cipher>
Result<std::string> DecryptToString(const Cipher& cipher,
                                    std::string_view ciphertext,
                                    std::string_view associated_data) {
  if (ciphertext.size() < kCiphertextOverhead) {
    return DecryptionFailedError("decryption failed");
  }
  std::string out(ciphertext.size() - kCiphertextOverhead, '\0');
  Status status = cipher.DecryptInto(ciphertext, associated_data,
                                     reinterpret_cast<uint8_t*>(out.data()),
                                     out.size());
  if (!status.ok()) return status;
  return out;
}

}  // namespace tipline::internal

#endif  // TIPLINE_INTERNAL_CIPHERTEXT_H_
