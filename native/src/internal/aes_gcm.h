// AES-256-GCM with 12-byte IVs and 16-byte tags, over OpenSSL EVP.
//
// Internal: Seal() takes an explicit IV, which the public API never does
// (FieldCipher draws it from the CSPRNG). The known-answer and Wycheproof
// tests use this seam. aes_gcm.cc is the only AEAD source that includes
// <openssl/evp.h>.
#ifndef TIPLINE_INTERNAL_AES_GCM_H_
#define TIPLINE_INTERNAL_AES_GCM_H_

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "tipline/secret.h"
#include "tipline/status.h"

namespace tipline::internal {

inline constexpr size_t kAesGcm256KeySize = 32;
inline constexpr size_t kAesGcmIvSize = 12;
inline constexpr size_t kAesGcmTagSize = 16;
// NIST SP 800-38D: at most 2^39 - 256 bits of plaintext per invocation.
inline constexpr uint64_t kAesGcmMaxPlaintextSize = (uint64_t{1} << 36) - 32;

// One key, with a pool of EVP_CIPHER_CTX already holding its key schedule:
// an operation borrows a context, sets the IV, and returns it, so the AES key
// expansion and the context allocation are paid once, not per call.
//
// Thread safety: Seal() and Open() are const and may run concurrently from
// any number of threads; the pool is guarded by a mutex held only to borrow
// and return a context (never during the cipher work). Contexts are freed
// (and wiped by OpenSSL) with the key.
class AesGcm256 {
 public:
  // `key` must be kAesGcm256KeySize bytes (else kInvalidArgument).
  [[nodiscard]] static Result<std::unique_ptr<AesGcm256>> Create(
      SecretBytes key);

  ~AesGcm256();
  AesGcm256(const AesGcm256&) = delete;
  AesGcm256& operator=(const AesGcm256&) = delete;

  const SecretBytes& key() const noexcept { return key_; }

  // Encrypts plaintext to ciphertext_out[0, plaintext.size()) and writes the
  // tag to tag_out[0, 16). `iv` is kAesGcmIvSize bytes and must never repeat
  // under this key. On failure both outputs are zeroed.
  [[nodiscard]] Status Seal(const uint8_t* iv, std::string_view plaintext,
                            std::string_view associated_data,
                            uint8_t* ciphertext_out, uint8_t* tag_out) const;

  // Decrypts and verifies; writes plaintext_out[0, ciphertext.size()). Any
  // failure (tag mismatch included) is kDecryptionFailed with the output
  // zeroed.
  [[nodiscard]] Status Open(const uint8_t* iv, std::string_view ciphertext,
                            const uint8_t* tag,
                            std::string_view associated_data,
                            uint8_t* plaintext_out) const;

 private:
  explicit AesGcm256(SecretBytes key) : key_(std::move(key)) {}

  // A keyed context from the pool, or a new one; nullptr if OpenSSL fails.
  EVP_CIPHER_CTX* Borrow() const;
  // Back to the pool (or freed if the pool is full or the context failed).
  void Return(EVP_CIPHER_CTX* context, bool healthy) const;

  SecretBytes key_;
  mutable std::mutex pool_mutex_;
  mutable std::vector<EVP_CIPHER_CTX*> idle_contexts_;
};

}  // namespace tipline::internal

#endif  // TIPLINE_INTERNAL_AES_GCM_H_
