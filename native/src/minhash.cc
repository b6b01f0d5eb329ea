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

// SplitMix64's finaliser: a bijection on 64 bits with full avalanche.
constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr uint64_t kMissingCodePoint = 0x1FFFFF;


inline uint64_t ShingleHashV2(uint64_t key) { return Mix64(key ^ kMinHashSeedV2); }

}  // namespace

size_t LshBands(uint8_t version) noexcept {
  return version == 1 ? kLshBands : version == 2 ? kLshBandsV2 : 0;
}

size_t LshRows(uint8_t version) noexcept {
  return version == 1 ? kLshRows : version == 2 ? kLshRowsV2 : 0;
}

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

// Version 2: character 3-grams of the text without spaces, and 2-grams of
// characters written without spaces (see minhash.h).
// *cjk is set when at least half of the code points are written without
// spaces (Chinese text, or mostly Chinese).
void AppendShingleHashesV2(std::string_view text, std::vector<uint64_t>* shingles,
                           bool* cjk = nullptr) {
  size_t tokens = 0;
  const uint8_t* const bmp = internal::BmpClassTable();
  // The last three code points and whether each is written without spaces.
  uint64_t c0 = 0, c1 = 0;
  bool t0 = false, t1 = false;
  size_t n = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const auto lead = static_cast<uint8_t>(text[pos]);
    int32_t c;
    uint8_t cls;
    if (lead < 0x80) {
      ++pos;
      c = lead;
      cls = bmp[lead];
    } else {
      c = internal::NextCodePoint(text, &pos);
      cls = c < 0x10000 ? bmp[c] : internal::ClassifyCodePoint(c);
    }
    if (cls & internal::kSeparator) continue;
    const bool token = cls & internal::kCharToken;
    tokens += token;
    const auto c2 = static_cast<uint64_t>(c);
    if (n >= 1 && t1 && token) {
      shingles->push_back(ShingleHashV2(c1 | c2 << 21 | kMissingCodePoint << 42));
    }
    if (n >= 2) shingles->push_back(ShingleHashV2(c0 | c1 << 21 | c2 << 42));
    c0 = c1;
    t0 = t1;
    c1 = c2;
    t1 = token;
    ++n;
  }
  if (n == 1) {
    shingles->push_back(
        ShingleHashV2(c1 | kMissingCodePoint << 21 | kMissingCodePoint << 42));
  } else if (n == 2 && !(t0 && t1)) {  // two CJK characters gave their 2-gram
    shingles->push_back(ShingleHashV2(c0 | c1 << 21 | kMissingCodePoint << 42));
  }
  if (cjk != nullptr) *cjk = n > 0 && 2 * tokens >= n;
}

// Ascending order. The values are uniform hashes, so one counting pass on
// the top 8 bits leaves buckets of a value or two for a report-sized text,
// which std::sort (insertion sort on short ranges) then finishes: about
// three passes over the values in all, several times faster than a
// comparison sort of the whole.
void SortValues(std::vector<uint32_t>* values) {
  const size_t n = values->size();
  if (n < 64) {
    std::sort(values->begin(), values->end());
    return;
  }
  thread_local std::vector<uint32_t> scratch;
  scratch.resize(n);
  uint32_t start[257] = {0};
  const uint32_t* from = values->data();
  for (size_t i = 0; i < n; ++i) ++start[(from[i] >> 24) + 1];
  for (size_t b = 0; b < 256; ++b) start[b + 1] += start[b];
  uint32_t next[256];
  std::copy(start, start + 256, next);
  uint32_t* to = scratch.data();
  for (size_t i = 0; i < n; ++i) to[next[from[i] >> 24]++] = from[i];
  for (size_t b = 0; b < 256; ++b) {
    if (start[b + 1] - start[b] > 1) std::sort(to + start[b], to + start[b + 1]);
  }
  std::copy(to, to + n, values->data());
}

// One-permutation MinHash with optimal densification, and the verify set.
void SignatureV2(const uint64_t* hashes, size_t count, MinHashSignature* out) {
  constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
  uint32_t* values = out->values.data();
  uint64_t filled[2] = {0, 0};
  for (size_t i = 0; i < kMinHashPermutations; ++i) values[i] = kEmpty;
  out->version = 2;
  out->cjk = false;
  out->shingles.clear();
  out->shingle_count = 0;
  if (count == 0) return;
  out->shingles.reserve(count);
  for (size_t s = 0; s < count; ++s) {
    const uint64_t h = hashes[s];
    const size_t bin = static_cast<size_t>(h >> 57);
    const auto v = static_cast<uint32_t>(h);
    if (!((filled[bin >> 6] >> (bin & 63)) & 1) || v < values[bin]) values[bin] = v;
    filled[bin >> 6] |= uint64_t{1} << (bin & 63);
    out->shingles.push_back(static_cast<uint32_t>(h >> 32));
  }
  for (size_t bin = 0; bin < kMinHashPermutations; ++bin) {
    if ((filled[bin >> 6] >> (bin & 63)) & 1) continue;
    for (uint64_t attempt = 1;; ++attempt) {
      const size_t j = static_cast<size_t>(
          Mix64(kMinHashSeedV2 ^ (static_cast<uint64_t>(bin) << 32 | attempt)) & 127);
      if ((filled[j >> 6] >> (j & 63)) & 1) {
        values[bin] = values[j];
        break;
      }
    }
  }
  std::vector<uint32_t>& set = out->shingles;
  SortValues(&set);
  set.erase(std::unique(set.begin(), set.end()), set.end());
  out->shingle_count = static_cast<uint32_t>(set.size());
  if (set.size() > kMaxVerifyShingles) set.resize(kMaxVerifyShingles);
}

}  // namespace

std::vector<uint64_t> ShingleHashes(std::string_view text, uint8_t version) {
  std::vector<uint64_t> shingles;
  if (version == 2) {
    AppendShingleHashesV2(text, &shingles);
  } else {
    AppendShingleHashes(text, &shingles);
  }
  return shingles;
}

MinHashSignature MinHashOfShingles(const uint64_t* hashes, size_t count) {
  MinHashSignature signature;
  signature.version = 1;
  MinHashKernel(hashes, count, signature.values.data());
  return signature;
}

MinHashSignature SignatureOfShingles(const uint64_t* hashes, size_t count,
                                     uint8_t version) {
  if (version == 1) return MinHashOfShingles(hashes, count);
  MinHashSignature signature;
  SignatureV2(hashes, count, &signature);
  return signature;
}

Result<MinHashSignature> ComputeSignature(std::string_view text, uint8_t version) {
  if (version != 1 && version != 2) {
    return InvalidArgumentError("unsupported signature version " +
                                std::to_string(version));
  }
  thread_local std::vector<uint64_t> shingles;  // reused: no allocation per text
  shingles.clear();
  if (version == 1) {
    Result<std::string> normalized = NormalizeForDedup(text, version);
    if (!normalized.ok()) return normalized.status();
    AppendShingleHashes(normalized.value(), &shingles);
    return MinHashOfShingles(shingles.data(), shingles.size());
  }
  thread_local std::string primary, taiwan;
  const Status status = NormalizeForDedupReadings(text, &primary, &taiwan);
  if (!status.ok()) return status;
  bool cjk = false;
  AppendShingleHashesV2(primary, &shingles, &cjk);
  if (!taiwan.empty()) AppendShingleHashesV2(taiwan, &shingles);
  MinHashSignature signature;
  SignatureV2(shingles.data(), shingles.size(), &signature);
  signature.cjk = cjk;
  return signature;
}

Status ComputeSignatures(const std::vector<std::string_view>& texts,
                         std::vector<MinHashSignature>* out,
                         size_t* failed_index, uint8_t version) {
  out->resize(texts.size());
  std::mutex failure_mutex;
  size_t failed = texts.size();
  Status failure;
  internal::ParallelFor(texts.size(), 512, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      Result<MinHashSignature> signature = ComputeSignature(texts[i], version);
      if (!signature.ok()) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (i < failed) {
          failed = i;
          failure = signature.status();
        }
        return;
      }
      (*out)[i] = std::move(signature).value();
    }
  });
  if (failed == texts.size()) return Status::Ok();
  if (failed_index != nullptr) *failed_index = failed;
  out->clear();
  return failure;
}

std::string EncodeSignature(const MinHashSignature& signature) {
  const bool v2 = signature.version == 2;
  const size_t size = kSignatureBytes +
      (v2 ? kVerifyHeaderBytes + 4 * signature.shingles.size() : 0);
  std::string bytes(size, '\0');
  auto* p = reinterpret_cast<uint8_t*>(bytes.data());
  p[0] = signature.version;
  p[1] = v2 && signature.cjk ? 1 : 0;
  p[2] = static_cast<uint8_t>(kMinHashPermutations & 0xFF);
  p[3] = static_cast<uint8_t>(kMinHashPermutations >> 8);
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    StoreLe32(p + kSignatureHeaderBytes + 4 * i, signature.values[i]);
  }
  if (v2) {
    uint8_t* q = p + kSignatureBytes;
    StoreLe32(q, signature.shingle_count);
    StoreLe32(q + 4, static_cast<uint32_t>(signature.shingles.size()));
    q += kVerifyHeaderBytes;
    for (const uint32_t v : signature.shingles) {
      StoreLe32(q, v);
      q += 4;
    }
  }
  return bytes;
}

Result<MinHashSignature> DecodeSignature(std::string_view bytes) {
  if (bytes.empty()) return InvalidArgumentError("a signature is not empty");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (p[0] != 1 && p[0] != 2) {
    return InvalidArgumentError("unsupported signature version " +
                                std::to_string(p[0]));
  }
  const bool v2 = p[0] == 2;
  if (v2 ? bytes.size() < kSignatureBytes + kVerifyHeaderBytes
         : bytes.size() != kSignatureBytes) {
    return InvalidArgumentError(
        "a version " + std::to_string(p[0]) + " signature is " +
        (v2 ? "at least " : "") +
        std::to_string(kSignatureBytes + (v2 ? kVerifyHeaderBytes : 0)) +
        " bytes, not " + std::to_string(bytes.size()));
  }
  const size_t count = static_cast<size_t>(p[2]) | (static_cast<size_t>(p[3]) << 8);
  if (p[1] > (v2 ? 1 : 0) || count != kMinHashPermutations) {
    return InvalidArgumentError("malformed signature header");
  }
  MinHashSignature signature;
  signature.version = p[0];
  signature.cjk = p[1] == 1;
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    signature.values[i] = LoadLe32(p + kSignatureHeaderBytes + 4 * i);
  }
  if (!v2) return signature;
  const uint8_t* q = p + kSignatureBytes;
  signature.shingle_count = LoadLe32(q);
  const size_t n = LoadLe32(q + 4);
  if (n > kMaxVerifyShingles ||
      bytes.size() != kSignatureBytes + kVerifyHeaderBytes + 4 * n ||
      n > signature.shingle_count ||
      (n < kMaxVerifyShingles && n != signature.shingle_count)) {
    return InvalidArgumentError("malformed verify set");
  }
  q += kVerifyHeaderBytes;
  signature.shingles.resize(n);
  for (size_t i = 0; i < n; ++i) {
    signature.shingles[i] = LoadLe32(q + 4 * i);
    if (i > 0 && signature.shingles[i] <= signature.shingles[i - 1]) {
      return InvalidArgumentError("malformed verify set");
    }
  }
  if ((n == 0) != signature.empty()) {
    return InvalidArgumentError("malformed verify set");
  }
  return signature;
}

double EstimateSimilarity(const MinHashSignature& a,
                          const MinHashSignature& b) noexcept {
  if (a.version != b.version || a.empty() || b.empty()) return 0.0;
  size_t equal = 0;
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    equal += a.values[i] == b.values[i];
  }
  return static_cast<double>(equal) / kMinHashPermutations;
}

ShingleOverlap VerifyOverlap(const MinHashSignature& a,
                             const MinHashSignature& b) noexcept {
  if (a.version != 2 || b.version != 2) return ShingleOverlap{};
  return OverlapOfSets(a.shingles.data(), a.shingles.size(), a.shingle_count,
                       b.shingles.data(), b.shingles.size(), b.shingle_count);
}

ShingleOverlap OverlapOfSets(const uint32_t* x, size_t nx, uint32_t count_x,
                             const uint32_t* y, size_t ny,
                             uint32_t count_y) noexcept {
  ShingleOverlap overlap;
  if (nx == 0 || ny == 0) return overlap;
  const bool exact = nx == count_x && ny == count_y;
  // Exact sets: count the intersection. Cut sets (bottom-k sketches): the k
  // smallest values of the union, k = the smaller sketch, and how many of
  // them both hold estimate the Jaccard similarity.
  const size_t k = exact ? nx + ny : std::min(nx, ny);
  size_t i = 0, j = 0, common = 0, seen = 0;
  while (i < nx && j < ny && seen < k) {
    const uint32_t u = x[i], v = y[j];
    common += u == v;
    i += u <= v;
    j += v <= u;
    ++seen;
  }
  const double na = count_x, nb = count_y;
  double inter;
  if (exact) {
    inter = static_cast<double>(common);
    overlap.jaccard = inter / (na + nb - inter);
  } else {
    overlap.jaccard = static_cast<double>(common) / static_cast<double>(k);
    inter = overlap.jaccard * (na + nb) / (1.0 + overlap.jaccard);
  }
  const double smaller = std::min(na, nb);
  overlap.containment = std::min(1.0, inter / smaller);
  overlap.smaller = static_cast<uint32_t>(smaller);
  return overlap;
}

int64_t BandKey(const MinHashSignature& signature, size_t band) noexcept {
  const size_t rows = signature.version == 2 ? kLshRowsV2 : kLshRows;
  uint8_t bytes[1 + 4 * kLshRows];
  bytes[0] = static_cast<uint8_t>(signature.version == 2 ? 0x80 | band : band);
  for (size_t r = 0; r < rows; ++r) {
    StoreLe32(bytes + 1 + 4 * r, signature.values[band * rows + r]);
  }
  return static_cast<int64_t>(XxHash64(bytes, 1 + 4 * rows, 0) &
                              0x7FFFFFFFFFFFFFFFULL);
}

std::vector<int64_t> BandKeys(const MinHashSignature& signature) {
  std::vector<int64_t> keys;
  if (signature.empty()) return keys;
  const size_t bands = signature.version == 2 ? kLshBandsV2 : kLshBands;
  keys.reserve(bands);
  for (size_t band = 0; band < bands; ++band) {
    keys.push_back(BandKey(signature, band));
  }
  return keys;
}

}  // namespace tipline
