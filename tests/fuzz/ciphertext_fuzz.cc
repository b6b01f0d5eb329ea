// Fuzzes FieldCipher::Decrypt on arbitrary ciphertexts against a fixed
// keyset (keys 1 and 2 enabled, 3 disabled), and a record's DataKey's
// Decrypt and Unwrap likewise: it must never crash, and since
// forging a GCM tag is out of reach, everything must fail with the one
// opaque error and a zeroed output. The first input byte picks the
// associated data length so both inputs are fuzzed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "tipline/ciphertext_format.h"
#include "tipline/data_key.h"
#include "tipline/field_cipher.h"
#include "tipline/keyset.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "ciphertext_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

const tipline::FieldCipher& Cipher() {
  static const tipline::FieldCipher* cipher = [] {
    auto keyset = tipline::Keyset::Generate().value();
    Require(keyset->Rotate().ok(), "rotate");
    Require(keyset->AddKey().ok(), "add key");
    Require(keyset->Disable(3).ok(), "disable");
    return new tipline::FieldCipher(keyset);
  }();
  return *cipher;
}

const tipline::DataKey& RecordKey() {
  static const tipline::DataKey* key =
      tipline::DataKey::Generate().value().release();
  return *key;
}

void RequireOpaque(const tipline::Status& status, const char* what) {
  Require(!status.ok(), what);
  Require(status.code() == tipline::StatusCode::kDecryptionFailed,
          "failures are kDecryptionFailed");
  Require(status.message() == "decryption failed", "one opaque message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const tipline::FieldCipher& cipher = Cipher();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view aad = "tipline.report|description|1";
  if (!input.empty()) {
    const size_t aad_size = static_cast<uint8_t>(input[0]) % 32;
    input.remove_prefix(1);
    if (aad_size <= input.size() && aad_size > 0) {
      aad = input.substr(0, aad_size);
      input.remove_prefix(aad_size);
    }
  }
  const tipline::Result<std::string> result = cipher.Decrypt(input, aad);
  Require(!result.ok(), "no forged ciphertext decrypts");
  Require(result.status().code() == tipline::StatusCode::kDecryptionFailed,
          "failures are kDecryptionFailed");
  Require(result.status().message() == "decryption failed",
          "one opaque message");

  if (input.size() >= tipline::kCiphertextOverhead) {
    std::string out(input.size() - tipline::kCiphertextOverhead, '\x5a');
    const tipline::Status status = cipher.DecryptInto(
        input, aad, reinterpret_cast<uint8_t*>(out.data()), out.size());
    Require(!status.ok(), "DecryptInto fails too");
    Require(out.find_first_not_of('\0') == std::string::npos,
            "output zeroed on failure");
  }

  // The same bytes are no record's value, nor a record's wrapped key.
  RequireOpaque(RecordKey().Decrypt(input, aad).status(),
                "no forged ciphertext decrypts under a data key");
  RequireOpaque(tipline::DataKey::Unwrap(cipher, input, aad).status(),
                "no forged wrapped key unwraps");
  const tipline::Result<std::string> under_key =
      RecordKey().Encrypt(input, aad);
  Require(under_key.ok() && RecordKey().Decrypt(under_key.value(), aad)
                                .value() == input,
          "data key round trip");

  // A genuine ciphertext of the fuzz input still round-trips.
  const tipline::Result<std::string> sealed = cipher.Encrypt(input, aad);
  Require(sealed.ok(), "encrypt");
  const tipline::Result<std::string> opened = cipher.Decrypt(sealed.value(), aad);
  Require(opened.ok() && opened.value() == input, "round trip");
  return 0;
}
