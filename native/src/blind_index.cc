#include "tipline/blind_index.h"

#include <cstdint>
#include <utility>

#include "internal/hmac_hkdf.h"
#include "tipline/master_key.h"

namespace tipline {

Result<SecretBytes> BlindIndexer::DeriveKey(const SecretBytes& master_key) {
  if (master_key.size() != kMasterKeySize) {
    return InvalidArgumentError("the master key must be 32 bytes");
  }
  return internal::DeriveSubkey(master_key, kBlindIndexKeyInfo);
}

Result<BlindIndexer> BlindIndexer::FromKey(SecretBytes index_key) {
  if (index_key.size() != kBlindIndexSize) {
    return InvalidArgumentError("the blind index key must be 32 bytes");
  }
  return BlindIndexer(std::move(index_key));
}

Result<BlindIndexer> BlindIndexer::Create(const SecretBytes& master_key) {
  Result<SecretBytes> key = DeriveKey(master_key);
  if (!key.ok()) return key.status();
  return BlindIndexer(std::move(key).value());
}

Result<std::string> BlindIndexer::Index(std::string_view purpose,
                                        std::string_view value) const {
  if (purpose.empty() || purpose.size() > kMaxBlindIndexPurposeSize) {
    return InvalidArgumentError(
        "the blind index purpose must be 1 to 256 bytes");
  }
  const uint32_t length = static_cast<uint32_t>(purpose.size());
  const char prefix[4] = {static_cast<char>(length >> 24),
                          static_cast<char>(length >> 16),
                          static_cast<char>(length >> 8),
                          static_cast<char>(length)};
  std::string index(kBlindIndexSize, '\0');
  const std::string_view key(
      reinterpret_cast<const char*>(key_.RevealSecretBytes()), key_.size());
  Status status = internal::HmacSha256(
      key, {std::string_view(prefix, sizeof(prefix)), purpose, value},
      reinterpret_cast<uint8_t*>(index.data()));
  if (!status.ok()) return status;
  return index;
}

}  // namespace tipline
