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
    Require(size != tipline::kSignatureBytes || data[0] != 1 ||
                data[1] != 0 || data[2] != 128 || data[3] != 0,
            "a version-1 signature is only rejected for its header or length");
    return 0;
  }
  const tipline::MinHashSignature& signature = decoded.value();
  Require(tipline::EncodeSignature(signature) == bytes, "decode/encode round trip");
  const double self = tipline::EstimateSimilarity(signature, signature);
  Require(self == (signature.empty() ? 0.0 : 1.0), "self-similarity");
  const auto keys = tipline::BandKeys(signature);
  const bool extra = signature.version == 3 &&
                     signature.shingle_count <= tipline::kShortTextShingles;
  Require(keys.size() == (signature.empty() ? 0
                          : tipline::LshBands(signature.version) +
                                (extra ? tipline::kLshExtraBands : 0)),
          "band count");
  for (const int64_t key : keys) Require(key >= 0, "band keys are non-negative");
  if (signature.version >= 2) {
    const tipline::ShingleOverlap self_overlap =
        tipline::VerifyOverlap(signature, signature);
    Require(signature.shingles.empty() || self_overlap.jaccard == 1.0,
            "a verify set overlaps itself fully");
  }

  auto index = std::move(tipline::DedupIndex::Create(0.5, signature.version)).value();
  Require(index->AddSignature(1, signature).ok(), "adds");
  Require(index->AddSignature(2, signature).ok(), "adds again");
  const auto matches = index->QuerySignature(signature, 10);
  // A matching form that is not the verify set's text (only a forged
  // signature's) makes a text of different substance from itself.
  const bool forged = tipline::DifferentSubstance(signature, signature);
  Require(matches.size() == (signature.empty() || forged ? 0u : 2u),
          "finds both copies");
  Require(index->Remove(1) && index->Remove(2) && index->size() == 0, "removes");
  return 0;
}
