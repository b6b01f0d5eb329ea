// Blind index: a keyed, deterministic fingerprint of a value, so equal values
// (e.g. a reporter's normalised email) can be found without storing them.
//
//   index key = HKDF-SHA256(master key, salt = empty,
//                           info = "tipline blind index v1"), 32 bytes
//   index     = HMAC-SHA256(index key,
//                           u32be(len(purpose)) ‖ purpose ‖ value), 32 bytes
//
// The index key may also be kept apart from the master key (DeriveKey, then
// FromKey): Tipline stores it encrypted beside the keyset, so that indexes
// stay the same when the master key changes (a master-key epoch) and the old
// master key can be destroyed.
//
// The purpose ("reporter", "email", ...) separates domains: the same value
// under two purposes gives unrelated indexes, and the length prefix keeps
// (purpose, value) pairs from running into each other. Callers normalise
// values (case, whitespace) before indexing; this layer hashes bytes as given.
#ifndef TIPLINE_BLIND_INDEX_H_
#define TIPLINE_BLIND_INDEX_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "tipline/secret.h"
#include "tipline/status.h"

namespace tipline {

inline constexpr std::string_view kBlindIndexKeyInfo = "tipline blind index v1";
inline constexpr size_t kBlindIndexSize = 32;
inline constexpr size_t kMaxBlindIndexPurposeSize = 256;

class BlindIndexer {
 public:
  // master_key must be 32 bytes (kInvalidArgument otherwise).
  [[nodiscard]] static Result<BlindIndexer> Create(
      const SecretBytes& master_key);

  // The index key Create() derives from master_key (32 bytes).
  [[nodiscard]] static Result<SecretBytes> DeriveKey(
      const SecretBytes& master_key);

  // An indexer over an index key (32 bytes, kInvalidArgument otherwise):
  // FromKey(DeriveKey(m)) indexes as Create(m) does.
  [[nodiscard]] static Result<BlindIndexer> FromKey(SecretBytes index_key);

  // The 32-byte index of `value` for `purpose`. The purpose must be 1 to
  // kMaxBlindIndexPurposeSize bytes (kInvalidArgument). Thread-safe.
  [[nodiscard]] Result<std::string> Index(std::string_view purpose,
                                          std::string_view value) const;

 private:
  explicit BlindIndexer(SecretBytes key) : key_(std::move(key)) {}

  SecretBytes key_;  // the derived index key, never the master key
};

}  // namespace tipline

#endif  // TIPLINE_BLIND_INDEX_H_
