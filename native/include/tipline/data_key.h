// A record's own data key: envelope encryption, as Tink's KMS envelope AEAD
// does per message, here per record (a report and everything that belongs
// to it).
//
// A DataKey is a fresh AES-256-GCM key from the CSPRNG. It encrypts every
// value of its record, and is stored only wrapped: encrypted by a
// FieldCipher under the keyset's primary key, with associated data that
// names the record. So
//   - destroying the one wrapped key makes every value of the record
//     unreadable at once (crypto-shredding);
//   - a keyset rotation re-wraps 32 bytes per record (Rewrap) instead of
//     re-encrypting every value.
//
// Its ciphertexts have the one format of ciphertext_format.h, with the key
// id kDataKeyId (0), which no Keyset ever issues: the key is found from the
// record the associated data names, not from the keyset. A value under a
// data key therefore never decrypts under the keyset, nor the other way
// round. The key material never leaves the native core: Wrap, Unwrap and
// Rewrap take and give the wrapped form only.
//
// Thread safety: a DataKey is immutable once made; Encrypt and Decrypt may
// run from any number of threads.
#ifndef TIPLINE_DATA_KEY_H_
#define TIPLINE_DATA_KEY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tipline/ciphertext_format.h"
#include "tipline/field_cipher.h"
#include "tipline/status.h"

namespace tipline {

namespace internal {
class AesGcm256;
}  // namespace internal

class DataKey {
 public:
  // The wrapped form is a FieldCipher ciphertext of the 32 key bytes.
  static constexpr size_t kWrappedSize =
      FieldCipher::CiphertextSize(32);  // 65
  static constexpr size_t kMaxPlaintextSize = FieldCipher::kMaxPlaintextSize;

  // A new key from the CSPRNG.
  [[nodiscard]] static Result<std::unique_ptr<DataKey>> Generate();

  // The key that Wrap() wrapped with the same associated data. Any failure
  // (wrong or disabled keyset key, other associated data, damage) is
  // kDecryptionFailed with the one message "decryption failed".
  [[nodiscard]] static Result<std::unique_ptr<DataKey>> Unwrap(
      const FieldCipher& cipher, std::string_view wrapped,
      std::string_view associated_data);

  // The wrapped key under the cipher's current primary key, bound to
  // associated_data (which must name the record; not empty).
  [[nodiscard]] Result<std::string> Wrap(
      const FieldCipher& cipher, std::string_view associated_data) const;

  // Unwrap, then Wrap under the primary key: what a keyset rotation does to
  // each record's key. The key bytes stay inside this call.
  [[nodiscard]] static Result<std::string> Rewrap(
      const FieldCipher& cipher, std::string_view wrapped,
      std::string_view associated_data);

  ~DataKey();
  DataKey(const DataKey&) = delete;
  DataKey& operator=(const DataKey&) = delete;

  // As FieldCipher's, with key id kDataKeyId in the prefix.
  [[nodiscard]] Status EncryptInto(std::string_view plaintext,
                                   std::string_view associated_data,
                                   uint8_t* out, size_t out_size) const;
  [[nodiscard]] Result<std::string> Encrypt(
      std::string_view plaintext, std::string_view associated_data) const;
  [[nodiscard]] Status DecryptInto(std::string_view ciphertext,
                                   std::string_view associated_data,
                                   uint8_t* out, size_t out_size) const;
  [[nodiscard]] Result<std::string> Decrypt(
      std::string_view ciphertext, std::string_view associated_data) const;

 private:
  explicit DataKey(std::unique_ptr<internal::AesGcm256> aead);

  std::unique_ptr<internal::AesGcm256> aead_;
};

}  // namespace tipline

#endif  // TIPLINE_DATA_KEY_H_
