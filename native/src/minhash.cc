#include "tipline/minhash.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>

#include "internal/parallel.h"
#include "internal/xxhash64.h"
#include "internal/unicode_text.h"
#include "tipline/normalize.h"

namespace tipline {
namespace {

using internal::LoadLe32;
using internal::StoreLe32;
using internal::StoreLe64;

// --- Permutation parameters -------------------------------------------------

constexpr uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

struct Permutations {
  uint64_t a[kMinHashPermutations];
  uint64_t b[kMinHashPermutations];
};

constexpr Permutations MakePermutations() {
  Permutations p{};
  uint64_t state = kMinHashSeed;
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    p.a[i] = SplitMix64(&state) | 1;
    p.b[i] = SplitMix64(&state);
  }
  return p;
}
alignas(64) constexpr Permutations kPermutations = MakePermutations();

// The hot loop: 128 multiply-add-shift-min per shingle. Built three times on
// x86-64 GCC (x86-64-v4 = AVX-512, AVX2, baseline) and picked at load time by
// CPU features, so AMD's AVX-512 parts get the widest one too (an arch= CPU
// name such as skylake-avx512 matched Intel models only); integer arithmetic,
// so all give bit-identical signatures.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(TIPLINE_NO_TARGET_CLONES)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
void MinHashKernel(const uint64_t* hashes, size_t count, uint32_t* mins) {
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    mins[i] = std::numeric_limits<uint32_t>::max();
  }
  for (size_t s = 0; s < count; ++s) {
    const uint64_t h = hashes[s];
    for (size_t i = 0; i < kMinHashPermutations; ++i) {
      const auto v =
          static_cast<uint32_t>((kPermutations.a[i] * h + kPermutations.b[i]) >> 32);
      mins[i] = v < mins[i] ? v : mins[i];
    }
  }
}

inline uint64_t HashTokenPair(uint64_t first, uint64_t second) {
  uint8_t bytes[16];
  StoreLe64(bytes, first);
  StoreLe64(bytes + 8, second);
  return internal::XxHash64Inline(bytes, sizeof bytes, 0);
}

inline uint64_t HashSingleToken(uint64_t token) {
  uint8_t bytes[8];
  StoreLe64(bytes, token);
  return internal::XxHash64Inline(bytes, sizeof bytes, 0);
}

}  // namespace

uint64_t XxHash64(const void* data, size_t size, uint64_t seed) noexcept {
  return internal::XxHash64Inline(data, size, seed);
}

bool MinHashSignature::empty() const noexcept {
  for (const uint32_t v : values) {
    if (v != std::numeric_limits<uint32_t>::max()) return false;
  }
  return true;
}

namespace {

void AppendShingleHashes(std::string_view text, std::vector<uint64_t>* shingles) {
  uint64_t previous = 0;
  size_t tokens = 0;
  const auto emit_token = [&](size_t begin, size_t end) {
    const uint64_t token =
        internal::XxHash64Inline(text.data() + begin, end - begin, 0);
    if (tokens > 0) shingles->push_back(HashTokenPair(previous, token));
    previous = token;
    ++tokens;
  };
  const uint8_t* const bmp = internal::BmpClassTable();
  size_t word_begin = 0;
  bool in_word = false;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const auto lead = static_cast<uint8_t>(text[pos]);
    uint8_t cls;
    if (lead < 0x80) {
      ++pos;
      cls = bmp[lead];
    } else {
      const int32_t c = internal::NextCodePoint(text, &pos);
      cls = c < 0x10000 ? bmp[c] : internal::ClassifyCodePoint(c);
    }
    const bool space = cls & internal::kSeparator;
    if (space || (cls & internal::kCharToken)) {
      if (in_word) emit_token(word_begin, start);
      in_word = false;
      if (!space) emit_token(start, pos);
    } else if (!in_word) {
      in_word = true;
      word_begin = start;
    }
  }
  if (in_word) emit_token(word_begin, text.size());
  if (tokens == 1) shingles->push_back(HashSingleToken(previous));
}

}  // namespace

std::vector<uint64_t> ShingleHashes(std::string_view text) {
  std::vector<uint64_t> shingles;
  AppendShingleHashes(text, &shingles);
  return shingles;
}

MinHashSignature MinHashOfShingles(const uint64_t* hashes, size_t count) {
  MinHashSignature signature;
  MinHashKernel(hashes, count, signature.values.data());
  return signature;
}

Result<MinHashSignature> ComputeSignature(std::string_view text) {
  Result<std::string> normalized = NormalizeForDedup(text);
  if (!normalized.ok()) return normalized.status();
  thread_local std::vector<uint64_t> shingles;  // reused: no allocation per text
  shingles.clear();
  AppendShingleHashes(normalized.value(), &shingles);
  return MinHashOfShingles(shingles.data(), shingles.size());
}

Status ComputeSignatures(const std::vector<std::string_view>& texts,
                         std::vector<MinHashSignature>* out,
                         size_t* failed_index) {
  out->resize(texts.size());
  std::mutex failure_mutex;
  size_t failed = texts.size();
  Status failure;
  internal::ParallelFor(texts.size(), 512, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      Result<MinHashSignature> signature = ComputeSignature(texts[i]);
      if (!signature.ok()) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (i < failed) {
          failed = i;
          failure = signature.status();
        }
        return;
      }
      (*out)[i] = signature.value();
    }
  });
  if (failed == texts.size()) return Status::Ok();
  if (failed_index != nullptr) *failed_index = failed;
  out->clear();
  return failure;
}

std::string EncodeSignature(const MinHashSignature& signature) {
  std::string bytes(kSignatureBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(bytes.data());
  p[0] = kSignatureVersion;
  p[1] = 0;
  p[2] = static_cast<uint8_t>(kMinHashPermutations & 0xFF);
  p[3] = static_cast<uint8_t>(kMinHashPermutations >> 8);
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    StoreLe32(p + kSignatureHeaderBytes + 4 * i, signature.values[i]);
  }
  return bytes;
}

Result<MinHashSignature> DecodeSignature(std::string_view bytes) {
  if (bytes.size() != kSignatureBytes) {
    return InvalidArgumentError(
        "a signature is " + std::to_string(kSignatureBytes) + " bytes, not " +
        std::to_string(bytes.size()));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (p[0] != kSignatureVersion) {
    return InvalidArgumentError("unsupported signature version " +
                                std::to_string(p[0]));
  }
  const size_t count = static_cast<size_t>(p[2]) | (static_cast<size_t>(p[3]) << 8);
  if (p[1] != 0 || count != kMinHashPermutations) {
    return InvalidArgumentError("malformed signature header");
  }
  MinHashSignature signature;
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    signature.values[i] = LoadLe32(p + kSignatureHeaderBytes + 4 * i);
  }
  return signature;
}

double EstimateSimilarity(const MinHashSignature& a,
                          const MinHashSignature& b) noexcept {
  if (a.empty() || b.empty()) return 0.0;
  size_t equal = 0;
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    equal += a.values[i] == b.values[i];
  }
  return static_cast<double>(equal) / kMinHashPermutations;
}

int64_t BandKey(const MinHashSignature& signature, size_t band) noexcept {
  uint8_t bytes[1 + 4 * kLshRows];
  bytes[0] = static_cast<uint8_t>(band);
  for (size_t r = 0; r < kLshRows; ++r) {
    StoreLe32(bytes + 1 + 4 * r, signature.values[band * kLshRows + r]);
  }
  return static_cast<int64_t>(XxHash64(bytes, sizeof bytes, 0) &
                              0x7FFFFFFFFFFFFFFFULL);
}

std::vector<int64_t> BandKeys(const MinHashSignature& signature) {
  std::vector<int64_t> keys;
  if (signature.empty()) return keys;
  keys.reserve(kLshBands);
  for (size_t band = 0; band < kLshBands; ++band) {
    keys.push_back(BandKey(signature, band));
  }
  return keys;
}

}  // namespace tipline
