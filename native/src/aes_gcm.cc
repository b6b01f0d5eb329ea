// The only AEAD source that includes <openssl/evp.h>.
#include "internal/aes_gcm.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <climits>
#include <utility>

namespace tipline::internal {
namespace {

// Idle contexts kept per key; more concurrent callers than this allocate.
constexpr size_t kMaxIdleContexts = 16;
// EVP takes int lengths: feed larger inputs in pieces.
constexpr size_t kMaxUpdateChunk = size_t{1} << 30;

// Fetched once: an implicit fetch per EVP_CipherInit_ex would cost more than
// encrypting a short field.
const EVP_CIPHER* AesGcm256Cipher() {
  static EVP_CIPHER* const cipher =
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// AAD (output == nullptr) or data through EVP_CipherUpdate, in int-sized
// pieces.
bool Update(EVP_CIPHER_CTX* context, std::string_view input, uint8_t* output) {
  const auto* data = reinterpret_cast<const uint8_t*>(input.data());
  size_t done = 0;
  while (done < input.size()) {
    const size_t chunk = std::min(input.size() - done, kMaxUpdateChunk);
    int written = 0;
    if (EVP_CipherUpdate(context, output == nullptr ? nullptr : output + done,
                         &written, data + done, static_cast<int>(chunk)) <= 0) {
      return false;
    }
    if (output != nullptr && static_cast<size_t>(written) != chunk) {
      return false;  // GCM is a stream mode: it never holds bytes back
    }
    done += chunk;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<AesGcm256>> AesGcm256::Create(SecretBytes key) {
  if (key.size() != kAesGcm256KeySize) {
    return InvalidArgumentError("an AES-256-GCM key is 32 bytes");
  }
  if (AesGcm256Cipher() == nullptr) {
    ERR_clear_error();
    return InternalError("OpenSSL does not provide AES-256-GCM");
  }
  std::unique_ptr<AesGcm256> aead(new AesGcm256(std::move(key)));
  // Build one context now so a broken OpenSSL fails here, not on first use.
  EVP_CIPHER_CTX* context = aead->Borrow();
  if (context == nullptr) return InternalError("cannot set up AES-256-GCM");
  aead->Return(context, true);
  return aead;
}

AesGcm256::~AesGcm256() {
  for (EVP_CIPHER_CTX* context : idle_contexts_) EVP_CIPHER_CTX_free(context);
}

EVP_CIPHER_CTX* AesGcm256::Borrow() const {
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (!idle_contexts_.empty()) {
      EVP_CIPHER_CTX* context = idle_contexts_.back();
      idle_contexts_.pop_back();
      return context;
    }
  }
  EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
  if (context == nullptr) return nullptr;
  // Key only: the IV and direction are set per operation.
  if (EVP_CipherInit_ex(context, AesGcm256Cipher(), nullptr,
                        key_.RevealSecretBytes(), nullptr, 1) <= 0) {
    EVP_CIPHER_CTX_free(context);
    ERR_clear_error();
    return nullptr;
  }
  return context;
}

void AesGcm256::Return(EVP_CIPHER_CTX* context, bool healthy) const {
  if (healthy) {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (idle_contexts_.size() < kMaxIdleContexts) {
      idle_contexts_.push_back(context);
      return;
    }
  }
  EVP_CIPHER_CTX_free(context);  // wipes the key schedule
}

Status AesGcm256::Seal(const uint8_t* iv, std::string_view plaintext,
                       std::string_view associated_data,
                       uint8_t* ciphertext_out, uint8_t* tag_out) const {
  if (plaintext.size() > kAesGcmMaxPlaintextSize) {
    return InvalidArgumentError("the plaintext is too large for AES-GCM");
  }
  EVP_CIPHER_CTX* context = Borrow();
  bool ok = context != nullptr;
  // Re-initialising with only an IV keeps the key schedule.
  ok = ok && EVP_CipherInit_ex(context, nullptr, nullptr, nullptr, iv, 1) > 0;
  ok = ok && Update(context, associated_data, nullptr);
  ok = ok && Update(context, plaintext, ciphertext_out);
  int final_size = 0;
  ok = ok && EVP_CipherFinal_ex(context, ciphertext_out + plaintext.size(),
                                &final_size) > 0 && final_size == 0;
  // Tag through OSSL_PARAM directly: EVP_CIPHER_CTX_ctrl would translate to
  // the same call, slower.
  OSSL_PARAM tag_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag_out,
                                        kAesGcmTagSize),
      OSSL_PARAM_construct_end()};
  ok = ok && EVP_CIPHER_CTX_get_params(context, tag_params) > 0;
  if (context != nullptr) Return(context, ok);
  if (!ok) {
    ERR_clear_error();
    if (plaintext.size() > 0) OPENSSL_cleanse(ciphertext_out, plaintext.size());
    OPENSSL_cleanse(tag_out, kAesGcmTagSize);
    return InternalError("AES-GCM encryption failed");
  }
  return Status::Ok();
}

Status AesGcm256::Open(const uint8_t* iv, std::string_view ciphertext,
                       const uint8_t* tag, std::string_view associated_data,
                       uint8_t* plaintext_out) const {
  if (ciphertext.size() > kAesGcmMaxPlaintextSize) {
    return DecryptionFailedError("decryption failed");
  }
  EVP_CIPHER_CTX* context = Borrow();
  bool ok = context != nullptr;
  ok = ok && EVP_CipherInit_ex(context, nullptr, nullptr, nullptr, iv, 0) > 0;
  ok = ok && Update(context, associated_data, nullptr);
  ok = ok && Update(context, ciphertext, plaintext_out);
  // OpenSSL only reads an input parameter; the cast is its API's.
  OSSL_PARAM tag_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                        const_cast<uint8_t*>(tag),
                                        kAesGcmTagSize),
      OSSL_PARAM_construct_end()};
  ok = ok && EVP_CIPHER_CTX_set_params(context, tag_params) > 0;
  int final_size = 0;
  // The tag is compared (in constant time) here.
  ok = ok && EVP_CipherFinal_ex(context, plaintext_out + ciphertext.size(),
                                &final_size) > 0 && final_size == 0;
  if (context != nullptr) Return(context, ok);
  if (!ok) {
    ERR_clear_error();
    if (ciphertext.size() > 0) OPENSSL_cleanse(plaintext_out, ciphertext.size());
    return DecryptionFailedError("decryption failed");
  }
  return Status::Ok();
}

}  // namespace tipline::internal
