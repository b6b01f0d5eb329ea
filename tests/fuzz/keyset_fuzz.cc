// Fuzzes Keyset::FromWrapped on arbitrary data under a fixed master key: it
// must never crash, unauthentic data must fail as kDecryptionFailed, and
// whatever it accepts must be a consistent keyset. Inputs that start with
// "SEAL" are instead treated as a payload and wrapped under the fixed key
// with the real wrapping (test-only seam below), so the fuzzer also reaches
// the payload parser behind the GCM tag.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "internal/aes_gcm.h"
#include "internal/hmac_hkdf.h"
#include "tipline/keyset.h"
#include "tipline/master_key.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "keyset_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

const tipline::SecretBytes& Master() {
  static const tipline::SecretBytes* master = new tipline::SecretBytes(
      tipline::ParseMasterKey(std::string(64, 'a')).value());
  return *master;
}

// Wraps `payload` exactly as Keyset::ToWrapped does (keyset.h documents the
// layout), with a fixed IV.
std::string Wrap(std::string_view payload) {
  auto key = tipline::internal::DeriveSubkey(Master(),
                                             tipline::kKeysetWrappingKeyInfo);
  Require(key.ok(), "derive");
  auto aead = tipline::internal::AesGcm256::Create(std::move(key).value());
  Require(aead.ok(), "aead");
  std::string aad(tipline::kKeysetWrappingPurpose);
  aad.append(tipline::kKeysetMagic);
  aad.push_back(static_cast<char>(tipline::kKeysetFormatVersion));
  std::string out(tipline::kKeysetMagic);
  out.push_back(static_cast<char>(tipline::kKeysetFormatVersion));
  out.append(12, '\0');
  out.append(payload.size() + 16, '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(out.data());
  Require(aead.value()
              ->Seal(bytes + 5, payload, aad, bytes + 17,
                     bytes + 17 + payload.size())
              .ok(),
          "seal");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool sealed = input.substr(0, 4) == "SEAL";
  const std::string wrapped = sealed ? Wrap(input.substr(4)) : std::string(input);
  auto keyset = tipline::Keyset::FromWrapped(wrapped, Master());
  if (!keyset.ok()) {
    const auto code = keyset.status().code();
    Require(code == tipline::StatusCode::kDecryptionFailed ||
                (sealed && code == tipline::StatusCode::kInvalidArgument),
            "unauthentic data is kDecryptionFailed, bad payloads "
            "kInvalidArgument");
    return 0;
  }
  // An accepted keyset is consistent and re-wraps to an equivalent one.
  const auto& ks = *keyset.value();
  Require(ks.key_status(ks.primary_id()).ok(), "primary exists");
  auto again = tipline::Keyset::FromWrapped(ks.ToWrapped(Master()).value(),
                                            Master());
  Require(again.ok(), "re-wrap round trip");
  Require(again.value()->key_ids() == ks.key_ids() &&
              again.value()->primary_id() == ks.primary_id(),
          "same keys after a round trip");
  return 0;
}
