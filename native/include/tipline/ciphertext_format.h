// The one ciphertext format of Tipline's field encryption (Tink's "TINK"
// output prefix followed by AES-256-GCM):
//
//   offset  size  content
//   0       1     kCiphertextVersion (0x01)
//   1       4     key id, uint32 big-endian: the keyset key that encrypted it
//   5       12    IV, fresh from the CSPRNG for every encryption
//   17      n     AES-256-GCM ciphertext of the n-byte plaintext
//   17+n    16    GCM tag over (associated data, ciphertext)
//
// The key id 0 (kDataKeyId) is never a keyset's: it marks a value under the
// data key of its record (data_key.h), found from the record the associated
// data names.
//
// The header (version and key id) is not covered by the tag directly, but a
// changed key id selects another key (or none) and a changed version is
// refused, so any change to any byte makes decryption fail.
#ifndef TIPLINE_CIPHERTEXT_FORMAT_H_
#define TIPLINE_CIPHERTEXT_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace tipline {

inline constexpr uint8_t kCiphertextVersion = 0x01;
// Keysets number their keys from 1: 0 names a record's own data key.
inline constexpr uint32_t kDataKeyId = 0;
inline constexpr size_t kCiphertextKeyIdSize = 4;
inline constexpr size_t kCiphertextIvSize = 12;
inline constexpr size_t kCiphertextTagSize = 16;
inline constexpr size_t kCiphertextHeaderSize =
    1 + kCiphertextKeyIdSize + kCiphertextIvSize;  // 17
// Ciphertext size = plaintext size + kCiphertextOverhead.
inline constexpr size_t kCiphertextOverhead =
    kCiphertextHeaderSize + kCiphertextTagSize;  // 33

inline constexpr size_t kCiphertextKeyIdOffset = 1;
inline constexpr size_t kCiphertextIvOffset = 1 + kCiphertextKeyIdSize;

// Writes version and key id to out[0, 5).
inline void WriteCiphertextPrefix(uint32_t key_id, uint8_t* out) noexcept {
  out[0] = kCiphertextVersion;
  out[1] = static_cast<uint8_t>(key_id >> 24);
  out[2] = static_cast<uint8_t>(key_id >> 16);
  out[3] = static_cast<uint8_t>(key_id >> 8);
  out[4] = static_cast<uint8_t>(key_id);
}

// The key id of a ciphertext of at least kCiphertextOverhead bytes.
inline uint32_t ReadCiphertextKeyId(const uint8_t* ciphertext) noexcept {
  return (static_cast<uint32_t>(ciphertext[1]) << 24) |
         (static_cast<uint32_t>(ciphertext[2]) << 16) |
         (static_cast<uint32_t>(ciphertext[3]) << 8) |
         static_cast<uint32_t>(ciphertext[4]);
}

// The first bytes of every ciphertext under key_id: the version and the key
// id. What a database may group or filter stored values by, without keys.
inline constexpr size_t kCiphertextPrefixSize = 1 + kCiphertextKeyIdSize;  // 5

// Reads the key id from the first `size` bytes of a stored value, which may be
// just its prefix. False when they do not start a ciphertext of this format
// (too short, or another version byte).
inline bool ParseCiphertextPrefix(const uint8_t* data, size_t size,
                                  uint32_t* key_id) noexcept {
  if (data == nullptr || size < kCiphertextPrefixSize ||
      data[0] != kCiphertextVersion) {
    return false;
  }
  *key_id = ReadCiphertextKeyId(data);
  return true;
}

}  // namespace tipline

#endif  // TIPLINE_CIPHERTEXT_FORMAT_H_
