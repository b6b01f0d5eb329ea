#include "internal/hmac_hkdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>  // EVP_MAC (not the AEAD: see aes_gcm.cc)
#include <openssl/kdf.h>
#include <openssl/params.h>

namespace tipline::internal {
namespace {

// Fetched once per process (fetching is far slower than one HMAC).
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

EVP_KDF* HkdfAlgorithm() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}

char kSha256Name[] = "SHA256";

void* Mutable(std::string_view bytes) {
  // OSSL_PARAM wants void*; OpenSSL only reads input parameters.
  return const_cast<char*>(bytes.data());
}

}  // namespace

Status HmacSha256(std::string_view key,
                  std::initializer_list<std::string_view> message_parts,
                  uint8_t* out) {
  EVP_MAC* mac = HmacAlgorithm();
  EVP_MAC_CTX* context = mac == nullptr ? nullptr : EVP_MAC_CTX_new(mac);
  bool ok = context != nullptr;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, kSha256Name, 0),
      OSSL_PARAM_construct_end()};
  // A non-null pointer even for an empty key: EVP_MAC_init treats a null
  // key as "keep the previous one".
  static const uint8_t kEmpty = 0;
  const auto* key_bytes =
      key.empty() ? &kEmpty : reinterpret_cast<const uint8_t*>(key.data());
  ok = ok && EVP_MAC_init(context, key_bytes, key.size(), params) > 0;
  for (std::string_view part : message_parts) {
    if (part.empty()) continue;
    ok = ok && EVP_MAC_update(context,
                              reinterpret_cast<const uint8_t*>(part.data()),
                              part.size()) > 0;
  }
  size_t written = 0;
  ok = ok && EVP_MAC_final(context, out, &written, kSha256Size) > 0 &&
       written == kSha256Size;
  EVP_MAC_CTX_free(context);
  if (!ok) {
    ERR_clear_error();
    OPENSSL_cleanse(out, kSha256Size);
    return InternalError("HMAC-SHA256 failed");
  }
  return Status::Ok();
}

Status HkdfSha256(std::string_view input_key_material, std::string_view salt,
                  std::string_view info, uint8_t* out, size_t out_size) {
  if (out_size == 0 || out_size > kHkdfSha256MaxOutputSize) {
    return InvalidArgumentError(
        "HKDF-SHA256 output size must be 1 to 8160 bytes");
  }
  EVP_KDF* kdf = HkdfAlgorithm();
  EVP_KDF_CTX* context = kdf == nullptr ? nullptr : EVP_KDF_CTX_new(kdf);
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] =
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, kSha256Name, 0);
  static char kEmpty = 0;
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY,
      input_key_material.empty() ? &kEmpty : Mutable(input_key_material),
      input_key_material.size());
  // Absent salt and info are what RFC 5869 calls empty.
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                    Mutable(salt), salt.size());
  }
  if (!info.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                    Mutable(info), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  const bool ok = context != nullptr &&
                  EVP_KDF_derive(context, out, out_size, params) > 0;
  EVP_KDF_CTX_free(context);
  if (!ok) {
    ERR_clear_error();
    OPENSSL_cleanse(out, out_size);
    return InternalError("HKDF-SHA256 failed");
  }
  return Status::Ok();
}

Result<SecretBytes> DeriveSubkey(const SecretBytes& master_key,
                                 std::string_view info) {
  SecretBytes subkey(kSha256Size);
  const std::string_view ikm(
      reinterpret_cast<const char*>(master_key.RevealSecretBytes()),
      master_key.size());
  Status status =
      HkdfSha256(ikm, {}, info, subkey.RevealSecretBytes(), subkey.size());
  if (!status.ok()) return status;
  return subkey;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tipline::internal
