#include "tipline/data_key.h"

#include <openssl/crypto.h>

#include <utility>

#include "internal/aes_gcm.h"
#include "internal/ciphertext.h"

namespace tipline {
namespace {

static_assert(DataKey::kWrappedSize ==
              kCiphertextOverhead + internal::kAesGcm256KeySize);

Status Opaque() { return DecryptionFailedError("decryption failed"); }

}  // namespace

DataKey::DataKey(std::unique_ptr<internal::AesGcm256> aead)
    : aead_(std::move(aead)) {}

DataKey::~DataKey() = default;

Result<std::unique_ptr<DataKey>> DataKey::Generate() {
  Result<SecretBytes> material =
      SecretBytes::Random(internal::kAesGcm256KeySize);
  if (!material.ok()) return material.status();
  Result<std::unique_ptr<internal::AesGcm256>> aead =
      internal::AesGcm256::Create(std::move(material).value());
  if (!aead.ok()) return aead.status();
  return std::unique_ptr<DataKey>(new DataKey(std::move(aead).value()));
}

Result<std::unique_ptr<DataKey>> DataKey::Unwrap(
    const FieldCipher& cipher, std::string_view wrapped,
    std::string_view associated_data) {
  if (wrapped.size() != kWrappedSize) return Opaque();
  SecretBytes material(internal::kAesGcm256KeySize);
  Status status = cipher.DecryptInto(wrapped, associated_data,
                                     material.RevealSecretBytes(),
                                     material.size());
  if (!status.ok()) return Opaque();
  Result<std::unique_ptr<internal::AesGcm256>> aead =
      internal::AesGcm256::Create(std::move(material));
  if (!aead.ok()) return aead.status();
  return std::unique_ptr<DataKey>(new DataKey(std::move(aead).value()));
}

Result<std::string> DataKey::Wrap(const FieldCipher& cipher,
                                  std::string_view associated_data) const {
  const SecretBytes& material = aead_->key();
  return cipher.Encrypt(
      std::string_view(
          reinterpret_cast<const char*>(material.RevealSecretBytes()),
          material.size()),
      associated_data);
}

Result<std::string> DataKey::Rewrap(const FieldCipher& cipher,
                                    std::string_view wrapped,
                                    std::string_view associated_data) {
  Result<std::unique_ptr<DataKey>> key =
      Unwrap(cipher, wrapped, associated_data);
  if (!key.ok()) return key.status();
  return key.value()->Wrap(cipher, associated_data);
}

Status DataKey::EncryptInto(std::string_view plaintext,
                            std::string_view associated_data, uint8_t* out,
                            size_t out_size) const {
  return internal::SealCiphertext(*aead_, kDataKeyId, plaintext,
                                  associated_data, out, out_size);
}

Result<std::string> DataKey::Encrypt(std::string_view plaintext,
                                     std::string_view associated_data) const {
  return internal::EncryptToString(*this, plaintext, associated_data);
}

Status DataKey::DecryptInto(std::string_view ciphertext,
                            std::string_view associated_data, uint8_t* out,
                            size_t out_size) const {
  if (ciphertext.size() < kCiphertextOverhead) return Opaque();
  const size_t plaintext_size = ciphertext.size() - kCiphertextOverhead;
  if ((out == nullptr && plaintext_size > 0) || out_size != plaintext_size) {
    return Opaque();
  }
  const auto* in = reinterpret_cast<const uint8_t*>(ciphertext.data());
  const bool ok = in[0] == kCiphertextVersion &&
                  ReadCiphertextKeyId(in) == kDataKeyId &&
                  !associated_data.empty() &&
                  internal::OpenCiphertext(*aead_, ciphertext,
                                           associated_data, out);
  if (!ok) {
    if (plaintext_size > 0) OPENSSL_cleanse(out, plaintext_size);
    return Opaque();
  }
  return Status::Ok();
}

Result<std::string> DataKey::Decrypt(std::string_view ciphertext,
                                     std::string_view associated_data) const {
  return internal::DecryptToString(*this, ciphertext, associated_data);
}

}  // namespace tipline
