// Fuzzes receipt parsing and stored-hash decoding: neither may crash, a
// parsed receipt is 16 digits and a fixpoint, and a decoded hash re-encodes
// to the same bytes with bounded scrypt parameters. (scrypt itself is not
// run: one call costs milliseconds.)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tipline/receipt.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "receipt_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const tipline::Result<std::string> digits = tipline::NormalizeReceipt(input);
  if (digits.ok()) {
    Require(digits.value().size() == tipline::kReceiptDigits &&
                digits.value().find_first_not_of("0123456789") ==
                    std::string::npos,
            "16 digits");
    Require(tipline::NormalizeReceipt(digits.value()).value() == digits.value(),
            "normal form is a fixpoint");
  } else {
    Require(digits.status().code() == tipline::StatusCode::kInvalidArgument,
            "kInvalidArgument");
  }

  const tipline::Result<tipline::ReceiptHash> decoded =
      tipline::DecodeReceiptHash(input);
  if (decoded.ok()) {
    Require(tipline::EncodeReceiptHash(decoded.value()) == input,
            "decode/encode round trip");
    Require(tipline::CheckScryptParams(decoded.value().params).ok(),
            "bounded parameters");
  } else {
    Require(decoded.status().code() == tipline::StatusCode::kInvalidArgument,
            "kInvalidArgument");
    // Verification refuses the same input before running scrypt.
    Require(!tipline::VerifyReceipt("1234567890123456", input).ok(),
            "verify refuses malformed hashes");
  }
  return 0;
}
