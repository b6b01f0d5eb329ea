// A keyset for field encryption, after Google Tink: AES-256-GCM keys with
// uint32 ids, one of them primary.
//
// Key life cycle (each step's preconditions are checked; a failed step
// changes nothing):
//
//   AddKey()         new ENABLED key, not primary; returns its id. Ids are
//                    1, 2, 3, ... and never reused, even after Destroy().
//   SetPrimary(id)   id must exist (kNotFound) and be ENABLED
//                    (kFailedPrecondition). New ciphertexts use the primary.
//   Rotate()         AddKey() then SetPrimary(new id); returns the new id.
//   Disable(id)      id must exist and not be the primary. A DISABLED key
//                    neither encrypts nor decrypts (its ciphertexts fail as
//                    if tampered): the reversible trial before Destroy().
//                    Disabling a disabled key is a no-op.
//   Enable(id)       id must exist; re-enables a DISABLED key (no-op if it is
//                    enabled).
//   Destroy(id)      id must exist and be DISABLED (so never the primary).
//                    The key material is wiped and the id is gone for good:
//                    its ciphertexts can never be decrypted again.
//
// So the safe rotation is: Rotate(); re-encrypt every field; Disable(old);
// watch for DecryptionError; Destroy(old).
//
// Thread safety: all methods may be called concurrently. A shared_mutex lets
// any number of FieldCiphers encrypt and decrypt in parallel; life-cycle
// steps take it exclusively and are seen by every FieldCipher at its next
// call.
//
// Wrapped (serialised) form, version 1 -- bytes, big-endian integers:
//
//   0     4   magic "TLKS"
//   4     1   format version 0x01
//   5     12  IV
//   17    n   AES-256-GCM encryption of the payload
//   17+n  16  GCM tag
//
// The wrapping key is HKDF-SHA256(master key, salt = empty,
// info = kKeysetWrappingKeyInfo) and the associated data is
// kKeysetWrappingPurpose followed by bytes [0, 5) (magic and version), so a
// wrapped keyset cannot be mistaken for any other ciphertext of the project.
// The payload:
//
//   u32 primary key id
//   u32 next key id (the id the next AddKey() will use)
//   u32 key count (1 .. kMaxKeys)
//   per key: u32 id, u8 status (1 enabled, 2 disabled),
//            u8 key type (1 = AES-256-GCM), 32 bytes key material
#ifndef TIPLINE_KEYSET_H_
#define TIPLINE_KEYSET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tipline/master_key.h"
#include "tipline/secret.h"
#include "tipline/status.h"

namespace tipline {

namespace internal {
class AesGcm256;
}  // namespace internal

class FieldCipher;

enum class KeyStatus : uint8_t { kEnabled = 1, kDisabled = 2 };

// "enabled" / "disabled".
const char* KeyStatusName(KeyStatus status) noexcept;

inline constexpr std::string_view kKeysetMagic = "TLKS";
inline constexpr uint8_t kKeysetFormatVersion = 0x01;
inline constexpr std::string_view kKeysetWrappingKeyInfo =
    "tipline keyset wrapping v1";
inline constexpr std::string_view kKeysetWrappingPurpose =
    "tipline keyset v1";

class Keyset {
 public:
  static constexpr size_t kMaxKeys = 1024;

  // A keyset with one enabled primary key, id 1.
  [[nodiscard]] static Result<std::shared_ptr<Keyset>> Generate();

  // Unwraps the form ToWrapped() produces. A wrong master key or any change
  // to `wrapped` is kDecryptionFailed; a master key that is not
  // kMasterKeySize bytes is kInvalidArgument.
  [[nodiscard]] static Result<std::shared_ptr<Keyset>> FromWrapped(
      std::string_view wrapped, const SecretBytes& master_key);

  // Encrypts the whole keyset under the master key (see the header comment).
  [[nodiscard]] Result<std::string> ToWrapped(
      const SecretBytes& master_key) const;

  ~Keyset();
  Keyset(const Keyset&) = delete;
  Keyset& operator=(const Keyset&) = delete;

  [[nodiscard]] Result<uint32_t> AddKey();
  [[nodiscard]] Status SetPrimary(uint32_t key_id);
  [[nodiscard]] Result<uint32_t> Rotate();
  [[nodiscard]] Status Disable(uint32_t key_id);
  [[nodiscard]] Status Enable(uint32_t key_id);
  [[nodiscard]] Status Destroy(uint32_t key_id);

  uint32_t primary_id() const;
  // Ids of existing (enabled or disabled) keys, ascending.
  std::vector<uint32_t> key_ids() const;
  // kNotFound for an unknown or destroyed id.
  [[nodiscard]] Result<KeyStatus> key_status(uint32_t key_id) const;

 private:
  friend class FieldCipher;

  struct Key {
    uint32_t id;
    KeyStatus status;
    std::unique_ptr<internal::AesGcm256> aead;
  };

  Keyset();

  // Callers hold mutex_ (any mode). nullptr if absent.
  const Key* FindLocked(uint32_t key_id) const;
  Key* FindLocked(uint32_t key_id);
  [[nodiscard]] Result<uint32_t> AddKeyLocked();

  mutable std::shared_mutex mutex_;
  std::vector<Key> keys_;  // ascending id
  uint32_t primary_id_ = 0;
  uint32_t next_key_id_ = 1;
};

}  // namespace tipline

#endif  // TIPLINE_KEYSET_H_
