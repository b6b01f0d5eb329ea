#include "tipline/keyset.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

#include "internal/aes_gcm.h"
#include "internal/hmac_hkdf.h"
#include "tipline/random.h"

namespace tipline {
namespace {

constexpr uint8_t kKeyTypeAesGcm256 = 1;
constexpr size_t kWrappedHeaderSize = 5;  // magic, version
constexpr size_t kWrappedOverhead = kWrappedHeaderSize +
                                    internal::kAesGcmIvSize +
                                    internal::kAesGcmTagSize;
constexpr size_t kPayloadHeaderSize = 12;
constexpr size_t kPayloadKeySize = 4 + 1 + 1 + internal::kAesGcm256KeySize;

void PutU32(uint32_t value, uint8_t* out) {
  out[0] = static_cast<uint8_t>(value >> 24);
  out[1] = static_cast<uint8_t>(value >> 16);
  out[2] = static_cast<uint8_t>(value >> 8);
  out[3] = static_cast<uint8_t>(value);
}

uint32_t GetU32(const uint8_t* in) {
  return (static_cast<uint32_t>(in[0]) << 24) |
         (static_cast<uint32_t>(in[1]) << 16) |
         (static_cast<uint32_t>(in[2]) << 8) | static_cast<uint32_t>(in[3]);
}

Result<SecretBytes> WrappingKey(const SecretBytes& master_key) {
  if (master_key.size() != kMasterKeySize) {
    return InvalidArgumentError("the master key must be 32 bytes");
  }
  return internal::DeriveSubkey(master_key, kKeysetWrappingKeyInfo);
}

// kKeysetWrappingPurpose ‖ magic ‖ version.
std::string WrappingAssociatedData() {
  std::string aad(kKeysetWrappingPurpose);
  aad.append(kKeysetMagic);
  aad.push_back(static_cast<char>(kKeysetFormatVersion));
  return aad;
}

std::string_view View(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

Status Malformed() {
  return InvalidArgumentError("the keyset payload is malformed");
}

}  // namespace

const char* KeyStatusName(KeyStatus status) noexcept {
  return status == KeyStatus::kEnabled ? "enabled" : "disabled";
}

Keyset::Keyset() = default;
Keyset::~Keyset() = default;

Result<std::shared_ptr<Keyset>> Keyset::Generate() {
  std::shared_ptr<Keyset> keyset(new Keyset());
  std::unique_lock<std::shared_mutex> lock(keyset->mutex_);
  Result<uint32_t> id = keyset->AddKeyLocked();
  if (!id.ok()) return id.status();
  keyset->primary_id_ = id.value();
  lock.unlock();
  return keyset;
}

const Keyset::Key* Keyset::FindLocked(uint32_t key_id) const {
  auto it = std::lower_bound(
      keys_.begin(), keys_.end(), key_id,
      [](const Key& key, uint32_t id) { return key.id < id; });
  return it != keys_.end() && it->id == key_id ? &*it : nullptr;
}

Keyset::Key* Keyset::FindLocked(uint32_t key_id) {
  return const_cast<Key*>(std::as_const(*this).FindLocked(key_id));
}

Result<uint32_t> Keyset::AddKeyLocked() {
  if (keys_.size() >= kMaxKeys) {
    return FailedPreconditionError(
        "the keyset is full: destroy retired keys first");
  }
  if (next_key_id_ == 0) {  // wrapped around after 2^32 - 1 keys
    return FailedPreconditionError("the keyset has no key ids left");
  }
  Result<SecretBytes> material =
      SecretBytes::Random(internal::kAesGcm256KeySize);
  if (!material.ok()) return material.status();
  Result<std::unique_ptr<internal::AesGcm256>> aead =
      internal::AesGcm256::Create(std::move(material).value());
  if (!aead.ok()) return aead.status();
  const uint32_t id = next_key_id_++;
  keys_.push_back(Key{id, KeyStatus::kEnabled, std::move(aead).value()});
  return id;  // ids grow, so keys_ stays sorted
}

Result<uint32_t> Keyset::AddKey() {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  return AddKeyLocked();
}

Status Keyset::SetPrimary(uint32_t key_id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  const Key* key = FindLocked(key_id);
  if (key == nullptr) {
    return NotFoundError("no key " + std::to_string(key_id) + " in the keyset");
  }
  if (key->status != KeyStatus::kEnabled) {
    return FailedPreconditionError("key " + std::to_string(key_id) +
                                   " is disabled: enable it before making "
                                   "it primary");
  }
  primary_id_ = key_id;
  return Status::Ok();
}

Result<uint32_t> Keyset::Rotate() {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  Result<uint32_t> id = AddKeyLocked();
  if (id.ok()) primary_id_ = id.value();
  return id;
}

Status Keyset::Disable(uint32_t key_id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  Key* key = FindLocked(key_id);
  if (key == nullptr) {
    return NotFoundError("no key " + std::to_string(key_id) + " in the keyset");
  }
  if (key_id == primary_id_) {
    return FailedPreconditionError(
        "key " + std::to_string(key_id) +
        " is the primary key: rotate to another key before disabling it");
  }
  key->status = KeyStatus::kDisabled;
  return Status::Ok();
}

Status Keyset::Enable(uint32_t key_id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  Key* key = FindLocked(key_id);
  if (key == nullptr) {
    return NotFoundError("no key " + std::to_string(key_id) + " in the keyset");
  }
  key->status = KeyStatus::kEnabled;
  return Status::Ok();
}

Status Keyset::Destroy(uint32_t key_id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  const Key* key = FindLocked(key_id);
  if (key == nullptr) {
    return NotFoundError("no key " + std::to_string(key_id) + " in the keyset");
  }
  if (key->status != KeyStatus::kDisabled) {
    return FailedPreconditionError("key " + std::to_string(key_id) +
                                   " is enabled: disable it before "
                                   "destroying it");
  }
  // Erasing frees the AesGcm256: its SecretBytes and contexts are wiped.
  keys_.erase(keys_.begin() + (key - keys_.data()));
  return Status::Ok();
}

uint32_t Keyset::primary_id() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return primary_id_;
}

std::vector<uint32_t> Keyset::key_ids() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<uint32_t> ids;
  ids.reserve(keys_.size());
  for (const Key& key : keys_) ids.push_back(key.id);
  return ids;
}

Result<KeyStatus> Keyset::key_status(uint32_t key_id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const Key* key = FindLocked(key_id);
  if (key == nullptr) {
    return NotFoundError("no key " + std::to_string(key_id) + " in the keyset");
  }
  return key->status;
}

Result<std::string> Keyset::ToWrapped(const SecretBytes& master_key) const {
  Result<SecretBytes> wrapping_key = WrappingKey(master_key);
  if (!wrapping_key.ok()) return wrapping_key.status();
  Result<std::unique_ptr<internal::AesGcm256>> aead =
      internal::AesGcm256::Create(std::move(wrapping_key).value());
  if (!aead.ok()) return aead.status();

  std::shared_lock<std::shared_mutex> lock(mutex_);
  SecretBytes payload(kPayloadHeaderSize + keys_.size() * kPayloadKeySize);
  uint8_t* p = payload.RevealSecretBytes();
  PutU32(primary_id_, p);
  PutU32(next_key_id_, p + 4);
  PutU32(static_cast<uint32_t>(keys_.size()), p + 8);
  p += kPayloadHeaderSize;
  for (const Key& key : keys_) {
    PutU32(key.id, p);
    p[4] = static_cast<uint8_t>(key.status);
    p[5] = kKeyTypeAesGcm256;
    std::memcpy(p + 6, key.aead->key().RevealSecretBytes(),
                internal::kAesGcm256KeySize);
    p += kPayloadKeySize;
  }
  lock.unlock();

  std::string wrapped(kWrappedOverhead + payload.size(), '\0');
  auto* out = reinterpret_cast<uint8_t*>(wrapped.data());
  std::memcpy(out, kKeysetMagic.data(), kKeysetMagic.size());
  out[4] = kKeysetFormatVersion;
  uint8_t* iv = out + kWrappedHeaderSize;
  Status status = RandomBytes(iv, internal::kAesGcmIvSize);
  if (!status.ok()) return status;
  uint8_t* ciphertext = iv + internal::kAesGcmIvSize;
  status = aead.value()->Seal(
      iv, View(payload.RevealSecretBytes(), payload.size()),
      WrappingAssociatedData(), ciphertext, ciphertext + payload.size());
  if (!status.ok()) return status;
  return wrapped;
}

Result<std::shared_ptr<Keyset>> Keyset::FromWrapped(
    std::string_view wrapped, const SecretBytes& master_key) {
  Result<SecretBytes> wrapping_key = WrappingKey(master_key);
  if (!wrapping_key.ok()) return wrapping_key.status();
  const Status undecryptable = DecryptionFailedError(
      "the keyset did not decrypt: wrong master key, or damaged data");
  if (wrapped.size() < kWrappedOverhead ||
      wrapped.substr(0, kKeysetMagic.size()) != kKeysetMagic ||
      static_cast<uint8_t>(wrapped[4]) != kKeysetFormatVersion) {
    return undecryptable;
  }
  Result<std::unique_ptr<internal::AesGcm256>> aead =
      internal::AesGcm256::Create(std::move(wrapping_key).value());
  if (!aead.ok()) return aead.status();

  const auto* in = reinterpret_cast<const uint8_t*>(wrapped.data());
  const uint8_t* iv = in + kWrappedHeaderSize;
  const size_t payload_size = wrapped.size() - kWrappedOverhead;
  const uint8_t* ciphertext = iv + internal::kAesGcmIvSize;
  SecretBytes payload(payload_size);
  if (!aead.value()
           ->Open(iv, View(ciphertext, payload_size),
                  ciphertext + payload_size, WrappingAssociatedData(),
                  payload.RevealSecretBytes())
           .ok()) {
    return undecryptable;
  }

  // Authentic, so written by ToWrapped(); still checked in full.
  const uint8_t* p = payload.RevealSecretBytes();
  if (payload_size < kPayloadHeaderSize) return Malformed();
  const uint32_t primary_id = GetU32(p);
  const uint32_t next_key_id = GetU32(p + 4);
  const uint32_t count = GetU32(p + 8);
  if (count == 0 || count > kMaxKeys ||
      payload_size != kPayloadHeaderSize + count * kPayloadKeySize) {
    return Malformed();
  }
  std::shared_ptr<Keyset> keyset(new Keyset());
  keyset->next_key_id_ = next_key_id;
  keyset->primary_id_ = primary_id;
  keyset->keys_.reserve(count);
  p += kPayloadHeaderSize;
  uint32_t previous_id = 0;
  for (uint32_t i = 0; i < count; ++i, p += kPayloadKeySize) {
    const uint32_t id = GetU32(p);
    const uint8_t status = p[4];
    // Ascending and below next_key_id (0 means the ids ran out).
    if (id <= previous_id || (next_key_id != 0 && id >= next_key_id) ||
        (status != static_cast<uint8_t>(KeyStatus::kEnabled) &&
         status != static_cast<uint8_t>(KeyStatus::kDisabled)) ||
        p[5] != kKeyTypeAesGcm256) {
      return Malformed();
    }
    previous_id = id;
    Result<std::unique_ptr<internal::AesGcm256>> key_aead =
        internal::AesGcm256::Create(SecretBytes::CopyFrom(
            View(p + 6, internal::kAesGcm256KeySize)));
    if (!key_aead.ok()) return key_aead.status();
    keyset->keys_.push_back(Key{id, static_cast<KeyStatus>(status),
                                std::move(key_aead).value()});
  }
  const Key* primary = keyset->FindLocked(primary_id);
  if (primary == nullptr || primary->status != KeyStatus::kEnabled) {
    return Malformed();
  }
  return keyset;
}

}  // namespace tipline
