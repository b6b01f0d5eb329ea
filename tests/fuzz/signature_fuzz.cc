// Fuzzes signature decoding and everything that reads a decoded signature
// (band keys, similarity, an index): arbitrary bytes must be rejected
// cleanly or round-trip exactly.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "tipline/dedup_index.h"
#include "tipline/minhash.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "signature_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const tipline::Result<tipline::MinHashSignature> decoded =
      tipline::DecodeSignature(bytes);
  if (!decoded.ok()) {
    Require(decoded.status().code() == tipline::StatusCode::kInvalidArgument,
            "bad signatures are kInvalidArgument");
    Require(size != tipline::kSignatureBytes || data[0] != tipline::kSignatureVersion ||
                data[1] != 0 || data[2] != 128 || data[3] != 0,
            "only bad headers or lengths are rejected");
    return 0;
  }
  const tipline::MinHashSignature& signature = decoded.value();
  Require(tipline::EncodeSignature(signature) == bytes, "decode/encode round trip");
  const double self = tipline::EstimateSimilarity(signature, signature);
  Require(self == (signature.empty() ? 0.0 : 1.0), "self-similarity");
  const auto keys = tipline::BandKeys(signature);
  Require(keys.size() == (signature.empty() ? 0 : tipline::kLshBands), "band count");
  for (const int64_t key : keys) Require(key >= 0, "band keys are non-negative");

  auto index = std::move(tipline::DedupIndex::Create(0.5)).value();
  index->AddSignature(1, signature);
  index->AddSignature(2, signature);
  const auto matches = index->QuerySignature(signature, 10);
  Require(matches.size() == (signature.empty() ? 0u : 2u), "finds both copies");
  Require(index->Remove(1) && index->Remove(2) && index->size() == 0, "removes");
  return 0;
}
