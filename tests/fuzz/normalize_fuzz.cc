// Fuzzes normalisation, shingling and personal-data scanning on arbitrary
// bytes: no crash or out-of-bounds read; valid UTF-8 is accepted and comes
// out valid, trimmed, with single spaces; invalid UTF-8 is kInvalidArgument.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tipline/minhash.h"
#include "tipline/normalize.h"
#include "tipline/personal_data.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "normalize_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = tipline::IsValidUtf8(text);
  const tipline::Result<std::string> normalized = tipline::NormalizeForDedup(text);
  const tipline::Result<tipline::PersonalDataCounts> pii =
      tipline::FindPersonalData(text);
  Require(pii.ok() == valid, "personal data scan accepts exactly valid UTF-8");
  if (!valid) {
    Require(!normalized.ok(), "invalid UTF-8 is rejected");
    Require(normalized.status().code() == tipline::StatusCode::kInvalidArgument,
            "invalid UTF-8 is kInvalidArgument");
    return 0;
  }
  Require(normalized.ok(), "valid UTF-8 normalises");
  const std::string& out = normalized.value();
  Require(tipline::IsValidUtf8(out), "output is valid UTF-8");
  Require(out.empty() || (out.front() != ' ' && out.back() != ' '), "trimmed");
  Require(out.find("  ") == std::string::npos, "single spaces");
  const tipline::MinHashSignature signature = tipline::MinHashOfShingles(
      tipline::ShingleHashes(out, 1).data(), tipline::ShingleHashes(out, 1).size());
  Require(signature.empty() == out.empty(), "only empty text has no shingles");
  const std::vector<uint64_t> v2 = tipline::ShingleHashes(out, 2);
  const tipline::MinHashSignature signature2 =
      tipline::SignatureOfShingles(v2.data(), v2.size(), 2);
  Require(signature2.empty() == out.empty(), "only empty text has no v2 shingles");
  return 0;
}
