#include "tipline/receipt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstring>

#include "tipline/random.h"
#include "tipline/secret.h"

namespace tipline {
namespace {

constexpr uint64_t kReceiptRange = 10'000'000'000'000'000ULL;  // 10^16
// The largest multiple of 10^16 that fits in 64 bits: draws at or above it
// are rejected so every receipt is equally likely.
constexpr uint64_t kReceiptDrawLimit =
    (UINT64_MAX / kReceiptRange) * kReceiptRange;
constexpr uint64_t kMaxScryptMemory = uint64_t{256} << 20;

EVP_KDF* ScryptAlgorithm() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
  return kdf;
}

Status Scrypt(const SecretBytes& password, const uint8_t* salt,
              ScryptParams params, uint8_t* out) {
  EVP_KDF* kdf = ScryptAlgorithm();
  EVP_KDF_CTX* context = kdf == nullptr ? nullptr : EVP_KDF_CTX_new(kdf);
  uint64_t n = uint64_t{1} << params.log2_n;
  uint32_t r = params.r;
  uint32_t p = params.p;
  // OpenSSL's default limit (32 MiB) would refuse some parameters that
  // CheckScryptParams (our bound) accepts.
  uint64_t max_memory = 2 * kMaxScryptMemory;
  const OSSL_PARAM ossl_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        const_cast<uint8_t*>(
                                            password.RevealSecretBytes()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                        const_cast<uint8_t*>(salt),
                                        kReceiptSaltSize),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &max_memory),
      OSSL_PARAM_construct_end()};
  const bool ok =
      context != nullptr &&
      EVP_KDF_derive(context, out, kReceiptScryptOutputSize, ossl_params) > 0;
  EVP_KDF_CTX_free(context);
  if (!ok) {
    ERR_clear_error();
    OPENSSL_cleanse(out, kReceiptScryptOutputSize);
    return InternalError("scrypt failed");
  }
  return Status::Ok();
}

// The 16 digits into a secret buffer; false for anything else.
bool NormalizeInto(std::string_view typed, SecretBytes* digits) {
  if (typed.size() > kMaxReceiptInputSize) return false;
  SecretBytes out(kReceiptDigits);
  uint8_t* bytes = out.RevealSecretBytes();
  size_t count = 0;
  for (char c : typed) {
    if (c == ' ' || c == '-') continue;
    if (c < '0' || c > '9' || count == kReceiptDigits) return false;
    bytes[count++] = static_cast<uint8_t>(c);
  }
  if (count != kReceiptDigits) return false;
  *digits = std::move(out);
  return true;
}

Status MalformedReceipt() {
  return InvalidArgumentError(
      "a receipt is 16 digits, e.g. 1234-5678-9012-3456");
}

}  // namespace

Status CheckScryptParams(ScryptParams params) {
  if (params.log2_n < 10 || params.log2_n > 20 || params.r < 1 ||
      params.r > 16 || params.p < 1 || params.p > 4 ||
      (uint64_t{128} * params.r << params.log2_n) > kMaxScryptMemory) {
    return InvalidArgumentError("unsupported scrypt parameters");
  }
  return Status::Ok();
}

Result<std::string> NewReceipt() {
  uint64_t value = 0;
  for (;;) {
    uint8_t bytes[8];
    Status status = BufferedRandomBytes(bytes, sizeof(bytes));
    if (!status.ok()) return status;
    value = 0;
    for (uint8_t byte : bytes) value = value << 8 | byte;
    OPENSSL_cleanse(bytes, sizeof(bytes));
    if (value < kReceiptDrawLimit) break;
  }
  value %= kReceiptRange;  // unbiased: the draw is uniform below a multiple
  std::string receipt(kReceiptDigits + 3, '-');
  for (size_t i = kReceiptDigits; i-- > 0;) {
    receipt[i + i / 4] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return receipt;
}

Result<std::string> NormalizeReceipt(std::string_view typed) {
  SecretBytes digits;
  if (!NormalizeInto(typed, &digits)) return MalformedReceipt();
  return std::string(reinterpret_cast<const char*>(digits.RevealSecretBytes()),
                     digits.size());
}

Result<std::string> HashReceipt(std::string_view receipt,
                                ScryptParams params) {
  Status status = CheckScryptParams(params);
  if (!status.ok()) return status;
  SecretBytes digits;
  if (!NormalizeInto(receipt, &digits)) return MalformedReceipt();
  ReceiptHash hash{};
  hash.params = params;
  status = RandomBytes(hash.salt.data(), hash.salt.size());
  if (!status.ok()) return status;
  status = Scrypt(digits, hash.salt.data(), params, hash.hash.data());
  if (!status.ok()) return status;
  return EncodeReceiptHash(hash);
}

Result<bool> VerifyReceipt(std::string_view receipt, std::string_view stored) {
  Result<ReceiptHash> decoded = DecodeReceiptHash(stored);
  if (!decoded.ok()) return decoded.status();
  SecretBytes digits;
  if (!NormalizeInto(receipt, &digits)) return false;
  const ReceiptHash& expected = decoded.value();
  uint8_t actual[kReceiptScryptOutputSize];
  Status status =
      Scrypt(digits, expected.salt.data(), expected.params, actual);
  if (!status.ok()) return status;
  const bool equal = CRYPTO_memcmp(actual, expected.hash.data(),
                                   kReceiptScryptOutputSize) == 0;
  OPENSSL_cleanse(actual, sizeof(actual));
  return equal;
}

Result<ReceiptHash> DecodeReceiptHash(std::string_view stored) {
  if (stored.size() != kReceiptHashSize ||
      static_cast<uint8_t>(stored[0]) != kReceiptHashVersion) {
    return InvalidArgumentError(
        "the stored receipt hash is malformed (not a version 1 hash of 52 "
        "bytes)");
  }
  const auto* in = reinterpret_cast<const uint8_t*>(stored.data());
  ReceiptHash hash{};
  hash.params = ScryptParams{in[1], in[2], in[3]};
  Status status = CheckScryptParams(hash.params);
  if (!status.ok()) {
    return InvalidArgumentError(
        "the stored receipt hash has unsupported scrypt parameters");
  }
  std::memcpy(hash.salt.data(), in + 4, kReceiptSaltSize);
  std::memcpy(hash.hash.data(), in + 4 + kReceiptSaltSize,
              kReceiptScryptOutputSize);
  return hash;
}

std::string EncodeReceiptHash(const ReceiptHash& hash) {
  std::string out(kReceiptHashSize, '\0');
  out[0] = static_cast<char>(kReceiptHashVersion);
  out[1] = static_cast<char>(hash.params.log2_n);
  out[2] = static_cast<char>(hash.params.r);
  out[3] = static_cast<char>(hash.params.p);
  std::memcpy(out.data() + 4, hash.salt.data(), kReceiptSaltSize);
  std::memcpy(out.data() + 4 + kReceiptSaltSize, hash.hash.data(),
              kReceiptScryptOutputSize);
  return out;
}

}  // namespace tipline
