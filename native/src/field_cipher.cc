#include "tipline/field_cipher.h"

#include <openssl/crypto.h>

#include <mutex>
#include <utility>

#include "internal/aes_gcm.h"
#include "internal/ciphertext.h"
#include "tipline/random.h"

namespace tipline {
namespace internal {

static_assert(kCiphertextIvSize == kAesGcmIvSize);
static_assert(kCiphertextTagSize == kAesGcmTagSize);

Status SealCiphertext(const AesGcm256& aead, uint32_t key_id,
                      std::string_view plaintext,
                      std::string_view associated_data, uint8_t* out,
                      size_t out_size) {
  if (plaintext.size() > FieldCipher::kMaxPlaintextSize) {
    return InvalidArgumentError("the plaintext is larger than 1 GiB");
  }
  if (associated_data.empty()) {
    return InvalidArgumentError(
        "associated data is required: it must name the model, field and "
        "record the ciphertext belongs to");
  }
  if (out == nullptr ||
      out_size != FieldCipher::CiphertextSize(plaintext.size())) {
    return InvalidArgumentError("the ciphertext buffer has the wrong size");
  }
  uint8_t* iv = out + kCiphertextIvOffset;
  Status status = BufferedRandomBytes(iv, kCiphertextIvSize);
  if (!status.ok()) {
    OPENSSL_cleanse(out, out_size);
    return status;
  }
  uint8_t* sealed = out + kCiphertextHeaderSize;
  WriteCiphertextPrefix(key_id, out);
  status = aead.Seal(iv, plaintext, associated_data, sealed,
                     sealed + plaintext.size());
  if (!status.ok()) OPENSSL_cleanse(out, out_size);
  return status;
}

bool OpenCiphertext(const AesGcm256& aead, std::string_view ciphertext,
                    std::string_view associated_data, uint8_t* out) {
  const auto* in = reinterpret_cast<const uint8_t*>(ciphertext.data());
  const size_t plaintext_size = ciphertext.size() - kCiphertextOverhead;
  return aead
      .Open(in + kCiphertextIvOffset,
            ciphertext.substr(kCiphertextHeaderSize, plaintext_size),
            in + kCiphertextHeaderSize + plaintext_size, associated_data, out)
      .ok();  // Open zeroes out on failure
}

}  // namespace internal

namespace {

Status Opaque() { return DecryptionFailedError("decryption failed"); }

}  // namespace

FieldCipher::FieldCipher(std::shared_ptr<Keyset> keyset)
    : keyset_(std::move(keyset)) {}

Status FieldCipher::EncryptInto(std::string_view plaintext,
                                std::string_view associated_data, uint8_t* out,
                                size_t out_size) const {
  std::shared_lock<std::shared_mutex> lock(keyset_->mutex_);
  const Keyset::Key* key = keyset_->FindLocked(keyset_->primary_id_);
  if (key == nullptr || key->status != KeyStatus::kEnabled) {
    if (out != nullptr && out_size == CiphertextSize(plaintext.size())) {
      OPENSSL_cleanse(out, out_size);
    }
    return InternalError("the keyset has no usable primary key");
  }
  return internal::SealCiphertext(*key->aead, key->id, plaintext,
                                  associated_data, out, out_size);
}

Result<std::string> FieldCipher::Encrypt(
    std::string_view plaintext, std::string_view associated_data) const {
  return internal::EncryptToString(*this, plaintext, associated_data);
}

Status FieldCipher::DecryptInto(std::string_view ciphertext,
                                std::string_view associated_data,
                                uint8_t* out, size_t out_size) const {
  if (ciphertext.size() < kCiphertextOverhead) return Opaque();
  const size_t plaintext_size = ciphertext.size() - kCiphertextOverhead;
  if ((out == nullptr && plaintext_size > 0) || out_size != plaintext_size) {
    return Opaque();
  }
  const auto* in = reinterpret_cast<const uint8_t*>(ciphertext.data());
  bool ok = in[0] == kCiphertextVersion && !associated_data.empty();
  if (ok) {
    std::shared_lock<std::shared_mutex> lock(keyset_->mutex_);
    const Keyset::Key* key = keyset_->FindLocked(ReadCiphertextKeyId(in));
    ok = key != nullptr && key->status == KeyStatus::kEnabled &&
         internal::OpenCiphertext(*key->aead, ciphertext, associated_data,
                                  out);
  }
  if (!ok) {
    if (plaintext_size > 0) OPENSSL_cleanse(out, plaintext_size);
    return Opaque();
  }
  return Status::Ok();
}

Result<std::string> FieldCipher::Decrypt(
    std::string_view ciphertext, std::string_view associated_data) const {
  return internal::DecryptToString(*this, ciphertext, associated_data);
}

}  // namespace tipline
