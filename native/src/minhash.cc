#include "tipline/minhash.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

inline bool CharacterVersion(uint8_t version) { return version == 2 || version == 3; }

// The start of each extra window (version 3): every w in [0, 128) that is
// not the start of a regular band.
struct ExtraWindows {
  uint8_t start[kLshExtraBands];
};
constexpr ExtraWindows MakeExtraWindows() {
  ExtraWindows windows{};
  size_t e = 0;
  for (size_t w = 0; w < kMinHashPermutations; ++w) {
    if (w % kLshRowsV2 == 0 && w / kLshRowsV2 < kLshBandsV2) continue;
    windows.start[e++] = static_cast<uint8_t>(w);
  }
  return windows;
}
constexpr ExtraWindows kExtraWindows = MakeExtraWindows();
static_assert(kExtraWindows.start[kLshExtraBands - 1] == kMinHashPermutations - 1);

// Densification's probe sequence j_t (see minhash.h) for t = 1..kDensifyTabled
// of every bin, computed at compile time: an empty bin reads its first
// targets from here instead of hashing them.
constexpr size_t kDensifyTabled = 32;
struct DensifyTable {
  uint8_t target[kMinHashPermutations][kDensifyTabled];
};
constexpr DensifyTable MakeDensifyTable() {
  DensifyTable table{};
  for (size_t bin = 0; bin < kMinHashPermutations; ++bin) {
    for (size_t t = 0; t < kDensifyTabled; ++t) {
      table.target[bin][t] = static_cast<uint8_t>(
          Mix64(kMinHashSeedV2 ^ (static_cast<uint64_t>(bin) << 32 | (t + 1))) & 127);
    }
  }
  return table;
}
constexpr DensifyTable kDensify = MakeDensifyTable();

}  // namespace

size_t LshBands(uint8_t version) noexcept {
  return version == 1 ? kLshBands : CharacterVersion(version) ? kLshBandsV2 : 0;
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

// Versions 2 and 3: character 3-grams of the text without spaces, and
// 2-grams of characters written without spaces (see minhash.h).
// *cjk is set when at least half of the code points are written without
// spaces (Chinese text, or mostly Chinese); *form, when given, receives the
// text without its separators (the matching form).
void AppendShingleHashesV2(std::string_view text, std::vector<uint64_t>* shingles,
                           bool* cjk = nullptr, std::string* form = nullptr) {
  size_t tokens = 0;
  const uint8_t* const bmp = internal::BmpClassTable();
  // The last three code points and whether each is written without spaces.
  uint64_t c0 = 0, c1 = 0;
  bool t0 = false, t1 = false;
  size_t n = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
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
    if (form != nullptr) form->append(text.data() + start, pos - start);
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

// The hashes of the 3-grams of n >= 3 code points: out[i] =
// ShingleHashV2(c[i] | c[i+1] << 21 | c[i+2] << 42). A loop over arrays, so
// that the compiler vectorises Mix64's multiplies; built per CPU like
// MinHashKernel (integer arithmetic: the same bits on every one).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(TIPLINE_NO_TARGET_CLONES)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
void HashTrigrams(const uint8_t* c, size_t n, uint64_t* out) {
  for (size_t i = 0; i + 2 < n; ++i) {
    uint64_t z = (uint64_t{c[i]} | uint64_t{c[i + 1]} << 21 | uint64_t{c[i + 2]} << 42) ^
                 kMinHashSeedV2;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    out[i] = z ^ (z >> 31);
  }
}

// The same for ASCII text straight from its bytes: exactly NormalizeForDedup's
// ASCII path (separators dropped, A-Z lowered; ASCII has no compatibility
// mappings and no character written without spaces) followed by
// AppendShingleHashesV2, without the intermediate string: the letters kept
// are the matching form, and their 3-grams the shingles.
void AppendAsciiShingleHashesV2(std::string_view text, std::vector<uint64_t>* shingles,
                                std::string* form) {
  const uint8_t* const bmp = internal::BmpClassTable();
  form->resize(text.size());
  auto* letters = reinterpret_cast<uint8_t*>(form->data());
  size_t n = 0;
  for (const char ch : text) {
    const auto byte = static_cast<uint8_t>(ch);
    letters[n] = byte >= 'A' && byte <= 'Z' ? byte + 32 : byte;
    n += (bmp[byte] & internal::kSeparator) == 0;
  }
  form->resize(n);
  if (n >= 3) {
    shingles->resize(n - 2);
    HashTrigrams(letters, n, shingles->data());
  } else if (n == 2) {
    shingles->assign(1, ShingleHashV2(uint64_t{letters[0]} | uint64_t{letters[1]} << 21 |
                                      kMissingCodePoint << 42));
  } else if (n == 1) {
    shingles->assign(1, ShingleHashV2(uint64_t{letters[0]} | kMissingCodePoint << 21 |
                                      kMissingCodePoint << 42));
  } else {
    shingles->clear();
  }
}

// The first filled bin in `bin`'s densification sequence. filled[j] is 1
// for a filled bin, else 0; at least one bin is filled.
inline size_t DensifyTarget(size_t bin, const uint8_t* filled) {
  const uint8_t* const target = kDensify.target[bin];
  for (size_t t = 0; t < kDensifyTabled; t += 8) {
    // Eight probes at once, as the bits of one word: no branch per probe.
    uint32_t hits = 0;
    for (size_t k = 0; k < 8; ++k) hits |= uint32_t{filled[target[t + k]]} << k;
    if (hits != 0) return target[t + static_cast<size_t>(__builtin_ctz(hits))];
  }
  for (uint64_t attempt = kDensifyTabled + 1;; ++attempt) {
    const size_t j = static_cast<size_t>(
        Mix64(kMinHashSeedV2 ^ (static_cast<uint64_t>(bin) << 32 | attempt)) & 127);
    if (filled[j]) return j;
  }
}

// Sorts `count` verify values (h >> 32 of `hashes`) ascending into `set`.
// Two stable counting passes, on the 8 bits below the bin and then on the
// bin (the value's top 7 bits, counted in `bin_counts`), order the values by
// their top 15 bits; values sharing those (one pair in a report-sized text,
// on average) are then put in order by an insertion pass that is otherwise a
// predictable scan. No comparison sort, and few mispredicted branches.
void SortVerifyValues(const uint64_t* hashes, size_t count,
                      const uint32_t* bin_counts, uint32_t* set) {
  thread_local std::vector<uint32_t> scratch;
  scratch.resize(count);
  uint32_t* const low = scratch.data();
  uint32_t offset[256] = {0};
  for (size_t s = 0; s < count; ++s) ++offset[(hashes[s] >> 49) & 0xFF];
  uint32_t sum = 0;
  for (uint32_t& o : offset) {
    const uint32_t c = o;
    o = sum;
    sum += c;
  }
  for (size_t s = 0; s < count; ++s) {
    low[offset[(hashes[s] >> 49) & 0xFF]++] = static_cast<uint32_t>(hashes[s] >> 32);
  }
  uint32_t next[kMinHashPermutations];
  sum = 0;
  for (size_t bin = 0; bin < kMinHashPermutations; ++bin) {
    next[bin] = sum;
    sum += bin_counts[bin];
  }
  for (size_t s = 0; s < count; ++s) set[next[low[s] >> 25]++] = low[s];
  for (size_t i = 1; i < count; ++i) {
    const uint32_t v = set[i];
    if (set[i - 1] <= v) continue;
    size_t j = i;
    for (; j > 0 && set[j - 1] > v; --j) set[j] = set[j - 1];
    set[j] = v;
  }
}

// One-permutation MinHash with optimal densification, and the verify set.
void SignatureV2(const uint64_t* hashes, size_t count, MinHashSignature* out) {
  constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
  uint32_t* values = out->values.data();
  for (size_t i = 0; i < kMinHashPermutations; ++i) values[i] = kEmpty;
  out->cjk = false;
  out->shingle_count = 0;
  out->text.clear();
  if (count == 0) {
    out->shingles.clear();
    return;
  }
  // A bin's value is the least low half of its shingles' hashes; starting
  // from the maximum, min() needs no first-shingle case (a lone value of
  // 0xFFFFFFFF leaves it where it was, as it should).
  uint32_t bin_counts[kMinHashPermutations] = {0};
  for (size_t s = 0; s < count; ++s) {
    const uint64_t h = hashes[s];
    const size_t bin = static_cast<size_t>(h >> 57);
    const auto v = static_cast<uint32_t>(h);
    values[bin] = v < values[bin] ? v : values[bin];
    ++bin_counts[bin];
  }
  // The empty bins' bits are gathered in registers: or-ing them into an
  // array beside the uint8_t stores to `filled` (which may alias it) made a
  // chain of read-modify-writes through memory, an eighth of the signing.
  uint8_t filled[kMinHashPermutations];
  for (size_t bin = 0; bin < kMinHashPermutations; ++bin) filled[bin] = bin_counts[bin] != 0;
  uint64_t empty[2];
  for (size_t word = 0; word < 2; ++word) {
    uint64_t bits = 0;
    for (size_t bit = 0; bit < 64; ++bit) {
      bits |= uint64_t{bin_counts[word * 64 + bit] == 0} << bit;
    }
    empty[word] = bits;
  }
  for (size_t word = 0; word < 2; ++word) {
    for (uint64_t bits = empty[word]; bits != 0; bits &= bits - 1) {
      const size_t bin = word * 64 + static_cast<size_t>(__builtin_ctzll(bits));
      values[bin] = values[DensifyTarget(bin, filled)];
    }
  }
  std::vector<uint32_t>& verify = out->shingles;
  verify.resize(count);
  uint32_t* set = verify.data();
  SortVerifyValues(hashes, count, bin_counts, set);
  // Distinct, in place (ascending, so equal values are neighbours).
  size_t kept = 1;
  uint32_t previous = set[0];
  for (size_t i = 1; i < count; ++i) {
    const uint32_t v = set[i];
    set[kept] = v;
    kept += v != previous;
    previous = v;
  }
  verify.resize(kept);
  out->shingle_count = static_cast<uint32_t>(kept);
  if (kept > kMaxVerifyShingles) verify.resize(kMaxVerifyShingles);
}

size_t CodePointCount(std::string_view utf8) {
  size_t n = 0;
  for (const char ch : utf8) n += (static_cast<uint8_t>(ch) & 0xC0) != 0x80;
  return n;
}

// Versions 2 and 3 from the text: its shingles (both readings') and, for
// version 3, its matching form.
Status SignCharacters(std::string_view text, uint8_t version, MinHashSignature* out) {
  thread_local std::vector<uint64_t> shingles;  // reused: no allocation per text
  thread_local std::string primary, taiwan, form;
  shingles.clear();
  form.clear();
  bool cjk = false;
  if (IsAsciiText(text)) {
    AppendAsciiShingleHashesV2(text, &shingles, &form);
  } else {
    const Status status = NormalizeForDedupReadings(text, &primary, &taiwan);
    if (!status.ok()) return status;
    AppendShingleHashesV2(primary, &shingles, &cjk, &form);
    if (!taiwan.empty()) AppendShingleHashesV2(taiwan, &shingles);
  }
  out->version = version;
  SignatureV2(shingles.data(), shingles.size(), out);
  out->cjk = cjk;
  if (version == 3 && !shingles.empty() && CodePointCount(form) <= kMaxVerifyTextChars) {
    out->text.assign(form);
  }
  return Status::Ok();
}

Status CheckVersion(uint8_t version) {
  if (version >= 1 && version <= 3) return Status::Ok();
  return InvalidArgumentError("unsupported signature version " + std::to_string(version));
}

}  // namespace

std::vector<uint64_t> ShingleHashes(std::string_view text, uint8_t version) {
  std::vector<uint64_t> shingles;
  if (CharacterVersion(version)) {
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
  signature.version = version;
  SignatureV2(hashes, count, &signature);
  return signature;
}

Result<MinHashSignature> ComputeSignature(std::string_view text, uint8_t version) {
  const Status valid = CheckVersion(version);
  if (!valid.ok()) return valid;
  MinHashSignature signature;
  if (version == 1) {
    Result<std::string> normalized = NormalizeForDedup(text, version);
    if (!normalized.ok()) return normalized.status();
    thread_local std::vector<uint64_t> shingles;
    shingles.clear();
    AppendShingleHashes(normalized.value(), &shingles);
    return MinHashOfShingles(shingles.data(), shingles.size());
  }
  const Status status = SignCharacters(text, version, &signature);
  if (!status.ok()) return status;
  return signature;
}

namespace {

// Runs fn(begin, end) over the texts on all cores, fn returning the index
// and status of the first text that failed in its range (or end and Ok);
// the first failure overall (lowest index) is returned with its index.
template <class Fn>
Status ForEachRange(size_t n, size_t* failed_index, Fn&& fn) {
  std::mutex failure_mutex;
  size_t failed = n;
  Status failure;
  internal::ParallelFor(n, 512, [&](size_t begin, size_t end) {
    size_t at = end;
    Status status = fn(begin, end, &at);
    if (status.ok()) return;
    std::lock_guard<std::mutex> lock(failure_mutex);
    if (at < failed) {
      failed = at;
      failure = std::move(status);
    }
  });
  if (failed == n) return Status::Ok();
  if (failed_index != nullptr) *failed_index = failed;
  return failure;
}

}  // namespace

Status ComputeSignatures(const std::vector<std::string_view>& texts,
                         std::vector<MinHashSignature>* out,
                         size_t* failed_index, uint8_t version) {
  const Status valid = CheckVersion(version);
  if (!valid.ok()) return valid;
  out->resize(texts.size());
  const Status status = ForEachRange(texts.size(), failed_index,
                                     [&](size_t begin, size_t end, size_t* at) {
    for (size_t i = begin; i < end; ++i) {
      Status one;
      if (version != 1) {
        one = SignCharacters(texts[i], version, &(*out)[i]);
      } else {
        Result<MinHashSignature> signature = ComputeSignature(texts[i], version);
        if (signature.ok()) {
          (*out)[i] = std::move(signature).value();
        } else {
          one = signature.status();
        }
      }
      if (!one.ok()) {
        *at = i;
        return one;
      }
    }
    return Status::Ok();
  });
  if (!status.ok()) out->clear();
  return status;
}

namespace {

size_t EncodedSize(const MinHashSignature& signature) {
  const bool sets = CharacterVersion(signature.version);
  return kSignatureBytes +
         (sets ? kVerifyHeaderBytes + 4 * signature.shingles.size() : 0) +
         (signature.version == 3 ? 4 + signature.text.size() : 0);
}

// EncodeSignature into p[0, EncodedSize(signature)).
void EncodeInto(const MinHashSignature& signature, uint8_t* p) {
  const bool sets = CharacterVersion(signature.version);
  p[0] = signature.version;
  p[1] = sets && signature.cjk ? 1 : 0;
  p[2] = static_cast<uint8_t>(kMinHashPermutations & 0xFF);
  p[3] = static_cast<uint8_t>(kMinHashPermutations >> 8);
  // Little-endian words: a copy on a little-endian machine.
  const auto store_all = [](uint8_t* to, const uint32_t* from, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    std::memcpy(to, from, 4 * n);
#else
    for (size_t i = 0; i < n; ++i) StoreLe32(to + 4 * i, from[i]);
#endif
  };
  store_all(p + kSignatureHeaderBytes, signature.values.data(), kMinHashPermutations);
  if (!sets) return;
  uint8_t* q = p + kSignatureBytes;
  StoreLe32(q, signature.shingle_count);
  StoreLe32(q + 4, static_cast<uint32_t>(signature.shingles.size()));
  q += kVerifyHeaderBytes;
  store_all(q, signature.shingles.data(), signature.shingles.size());
  q += 4 * signature.shingles.size();
  if (signature.version == 3) {
    StoreLe32(q, static_cast<uint32_t>(signature.text.size()));
    std::memcpy(q + 4, signature.text.data(), signature.text.size());
  }
}

}  // namespace

Status ComputeEncodedSignatures(const std::vector<std::string_view>& texts,
                                EncodedSignatures* out, size_t* failed_index,
                                uint8_t version) {
  out->chunks.clear();
  out->items.clear();
  const Status valid = CheckVersion(version);
  if (!valid.ok()) return valid;
  // Each range is encoded into a chunk of its own, one after the other (not
  // zeroed first: every byte is written); the views are taken once no chunk
  // moves any more.
  std::vector<size_t> ends(texts.size());
  std::vector<uint32_t> chunk_of(texts.size());
  std::mutex chunks_mutex;
  const Status status = ForEachRange(texts.size(), failed_index,
                                     [&](size_t begin, size_t end, size_t* at) {
    // Room for every signature of the range (a shingle per byte of text at
    // most, and the matching form), grown if a text expands further.
    size_t capacity = 0;
    for (size_t i = begin; i < end; ++i) {
      capacity += kSignatureBytes + kVerifyHeaderBytes + 4 + 5 * texts[i].size();
    }
    std::unique_ptr<char[]> chunk(new char[capacity]);
    size_t used = 0;
    MinHashSignature signature;
    for (size_t i = begin; i < end; ++i) {
      Status one;
      if (version != 1) {
        one = SignCharacters(texts[i], version, &signature);
      } else {
        Result<MinHashSignature> v1 = ComputeSignature(texts[i], version);
        if (v1.ok()) {
          signature = std::move(v1).value();
        } else {
          one = v1.status();
        }
      }
      if (!one.ok()) {
        *at = i;
        return one;
      }
      const size_t size = EncodedSize(signature);
      if (used + size > capacity) {
        capacity = 2 * (used + size);
        std::unique_ptr<char[]> larger(new char[capacity]);
        std::memcpy(larger.get(), chunk.get(), used);
        chunk = std::move(larger);
      }
      EncodeInto(signature, reinterpret_cast<uint8_t*>(chunk.get() + used));
      used += size;
      ends[i] = used;
    }
    std::lock_guard<std::mutex> lock(chunks_mutex);
    for (size_t i = begin; i < end; ++i) {
      chunk_of[i] = static_cast<uint32_t>(out->chunks.size());
    }
    out->chunks.push_back(std::move(chunk));
    return Status::Ok();
  });
  if (!status.ok()) {
    out->chunks.clear();
    return status;
  }
  out->items.resize(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const size_t begin = i > 0 && chunk_of[i - 1] == chunk_of[i] ? ends[i - 1] : 0;
    out->items[i] = std::string_view(out->chunks[chunk_of[i]].get() + begin,
                                     ends[i] - begin);
  }
  return Status::Ok();
}

std::string EncodeSignature(const MinHashSignature& signature) {
  std::string bytes(EncodedSize(signature), '\0');
  EncodeInto(signature, reinterpret_cast<uint8_t*>(bytes.data()));
  return bytes;
}

Result<MinHashSignature> DecodeSignature(std::string_view bytes) {
  if (bytes.empty()) return InvalidArgumentError("a signature is not empty");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const Status valid = CheckVersion(p[0]);
  if (!valid.ok()) return valid;
  const bool sets = CharacterVersion(p[0]);
  if (sets ? bytes.size() < kSignatureBytes + kVerifyHeaderBytes
           : bytes.size() != kSignatureBytes) {
    return InvalidArgumentError(
        "a version " + std::to_string(p[0]) + " signature is " +
        (sets ? "at least " : "") +
        std::to_string(kSignatureBytes + (sets ? kVerifyHeaderBytes : 0)) +
        " bytes, not " + std::to_string(bytes.size()));
  }
  const size_t count = static_cast<size_t>(p[2]) | (static_cast<size_t>(p[3]) << 8);
  if (p[1] > (sets ? 1 : 0) || count != kMinHashPermutations) {
    return InvalidArgumentError("malformed signature header");
  }
  MinHashSignature signature;
  signature.version = p[0];
  signature.cjk = p[1] == 1;
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    signature.values[i] = LoadLe32(p + kSignatureHeaderBytes + 4 * i);
  }
  if (!sets) return signature;
  const uint8_t* q = p + kSignatureBytes;
  signature.shingle_count = LoadLe32(q);
  const size_t n = LoadLe32(q + 4);
  const size_t set_end = kSignatureBytes + kVerifyHeaderBytes + 4 * n;
  const bool form = signature.version == 3;
  if (n > kMaxVerifyShingles || bytes.size() < set_end ||
      (!form && bytes.size() != set_end) || n > signature.shingle_count ||
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
  if (!form) return signature;
  const std::string_view rest = bytes.substr(set_end);
  if (rest.size() < 4 ||
      rest.size() - 4 != LoadLe32(reinterpret_cast<const uint8_t*>(rest.data()))) {
    return InvalidArgumentError("malformed matching form");
  }
  const std::string_view text = rest.substr(4);
  if (!IsValidUtf8(text) || text.find(' ') != std::string_view::npos ||
      CodePointCount(text) > kMaxVerifyTextChars || (n == 0 && !text.empty())) {
    return InvalidArgumentError("malformed matching form");
  }
  signature.text.assign(text);
  return signature;
}

double EstimateSimilarity(const MinHashSignature& a,
                          const MinHashSignature& b) noexcept {
  if (!ComparableVersions(a.version, b.version) || a.empty() || b.empty()) return 0.0;
  size_t equal = 0;
  for (size_t i = 0; i < kMinHashPermutations; ++i) {
    equal += a.values[i] == b.values[i];
  }
  return static_cast<double>(equal) / kMinHashPermutations;
}

ShingleOverlap VerifyOverlap(const MinHashSignature& a,
                             const MinHashSignature& b) noexcept {
  if (!CharacterVersion(a.version) || !CharacterVersion(b.version)) {
    return ShingleOverlap{};
  }
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
#if defined(__SSE2__)
  if (exact) {
    // Four values of each set at a time, each against each (the block of
    // the smaller last value moves on; both when they are equal), as in
    // Schlegel, Willhalm and Lehner's and Lemire's SIMD intersections: a
    // fifth of the merge's time on report-sized sets. The merge below ends.
    while (i + 4 <= nx && j + 4 <= ny) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y + j));
      const __m128i equal = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi32(a, b),
                       _mm_cmpeq_epi32(a, _mm_shuffle_epi32(b, _MM_SHUFFLE(0, 3, 2, 1)))),
          _mm_or_si128(_mm_cmpeq_epi32(a, _mm_shuffle_epi32(b, _MM_SHUFFLE(1, 0, 3, 2))),
                       _mm_cmpeq_epi32(a, _mm_shuffle_epi32(b, _MM_SHUFFLE(2, 1, 0, 3)))));
      const int mask = _mm_movemask_ps(_mm_castsi128_ps(equal));
      common += static_cast<size_t>((0x4332322132212110ULL >> (4 * mask)) & 0xF);
      const uint32_t last_x = x[i + 3], last_y = y[j + 3];
      i += last_x <= last_y ? 4 : 0;
      j += last_y <= last_x ? 4 : 0;
    }
  }
#endif
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

namespace {

// The values two ascending verify sets share, as a small open-addressing
// set (value + 1 per cell, 0 when free).
class SharedValues {
 public:
  void Fill(const uint32_t* x, size_t nx, const uint32_t* y, size_t ny) {
    size_t bits = 4;
    while ((size_t{1} << bits) < 2 * std::min(nx, ny)) ++bits;
    mask_ = (size_t{1} << bits) - 1;
    cells_.assign(mask_ + 1, 0);
    // The merge writes each value out and keeps it when both sets hold it,
    // without a branch (taken at random for a near-duplicate's sets).
    common_.resize(std::min(nx, ny) + 1);
    size_t i = 0, j = 0, n = 0;
    while (i < nx && j < ny) {
      const uint32_t u = x[i], v = y[j];
      common_[n] = u;
      n += u == v;
      i += u <= v;
      j += v <= u;
    }
    for (size_t k = 0; k < n; ++k) {
      size_t c = common_[k] & mask_;
      while (cells_[c] != 0) c = (c + 1) & mask_;
      cells_[c] = uint64_t{common_[k]} + 1;
    }
  }
  bool Contains(uint32_t value) const {
    for (size_t c = value & mask_;; c = (c + 1) & mask_) {
      if (cells_[c] == 0) return false;
      if (cells_[c] == uint64_t{value} + 1) return true;
    }
  }

 private:
  std::vector<uint64_t> cells_;
  std::vector<uint32_t> common_;
  size_t mask_ = 0;
};

inline uint32_t VerifyValue(uint64_t key) {
  return static_cast<uint32_t>(ShingleHashV2(key) >> 32);
}

// Whether at least kSubstanceShare of a matching form's positions lie in
// runs of at least kSubstanceRun positions none of whose shingles the other
// text has. One pass with the last three code points in hand; it stops as
// soon as the answer is known.
bool HasSubstanceOfItsOwn(std::string_view form, const SharedValues& shared) {
  const uint8_t* const bmp = internal::BmpClassTable();
  const auto next = [&](size_t* pos, bool* token) {
    const auto lead = static_cast<uint8_t>(form[*pos]);
    if (lead < 0x80) {
      ++*pos;
      *token = false;  // no ASCII character is written without spaces
      return static_cast<uint64_t>(lead);
    }
    const int32_t c = internal::NextCodePoint(form, pos);
    const uint8_t cls = c < 0x10000 ? bmp[c] : internal::ClassifyCodePoint(c);
    *token = (cls & internal::kCharToken) != 0;
    return static_cast<uint64_t>(c);
  };
  size_t pos = 0;
  const size_t n = CodePointCount(form);
  if (n < 3) return false;  // one shingle: shared, or no overlap at all
  const size_t positions = n - 1;
  const auto needed = static_cast<size_t>(
      std::ceil(kSubstanceShare * static_cast<double>(positions) - 1e-9));
  bool t0 = false, t1 = false, t2 = false;
  uint64_t c0 = next(&pos, &t0);
  uint64_t c1 = next(&pos, &t1);
  size_t run = 0, unshared = 0;
  for (size_t i = 0; i < positions; ++i) {
    // Position i: the 3-gram (c0, c1, c2) if there is a c2, and the 2-gram
    // (c0, c1) if both are written without spaces.
    const bool has_next = i + 2 < n;
    uint64_t c2 = 0;
    if (has_next) c2 = next(&pos, &t2);
    bool has = false, is_shared = false;
    if (has_next) {
      has = true;
      is_shared = shared.Contains(VerifyValue(c0 | c1 << 21 | c2 << 42));
    }
    if (!is_shared && t0 && t1) {
      has = true;
      is_shared = shared.Contains(VerifyValue(c0 | c1 << 21 | kMissingCodePoint << 42));
    }
    if (has && !is_shared) {
      ++run;
    } else {
      if (run >= kSubstanceRun) unshared += run;
      run = 0;
    }
    if (unshared + (run >= kSubstanceRun ? run : 0) >= needed) return true;
    // Not reachable any more, even if every position left were unshared.
    if (unshared + run + (positions - i - 1) < needed) return false;
    c0 = c1;
    t0 = t1;
    c1 = c2;
    t1 = t2;
  }
  if (run >= kSubstanceRun) unshared += run;
  return unshared >= needed;
}

// --- Substitutions in Chinese texts ------------------------------------------
//
// A matching form decoded once: code points, and whether each is written
// without spaces (a 2-gram position, as in shingling).
struct DecodedForm {
  std::vector<uint32_t> cps;
  std::vector<uint8_t> token;
  bool has_han = false;

  void Decode(std::string_view form) {
    const uint8_t* const bmp = internal::BmpClassTable();
    cps.clear();
    token.clear();
    has_han = false;
    size_t pos = 0;
    while (pos < form.size()) {
      const int32_t c = internal::NextCodePoint(form, &pos);
      const uint8_t cls = c < 0x10000 ? bmp[c] : internal::ClassifyCodePoint(c);
      cps.push_back(static_cast<uint32_t>(c));
      token.push_back((cls & internal::kCharToken) != 0);
      has_han = has_han || IsHanForSubstitution(static_cast<uint32_t>(c));
    }
  }
  static bool IsHanForSubstitution(uint32_t c) {
    return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF);
  }
};

// A run of ASCII letters or of ASCII digits in a matching form (which has
// no spaces: "ALTER AGGREGATE - 修改" reads "alteraggregate修改").
struct LatinWord {
  std::string text;
  uint32_t start = 0, end = 0;  // code points
  bool digits = false;
  bool at_end = false;  // ends the text (a cut text may have cut it)
};

inline int LatinKind(uint32_t c) {  // 1 letter, 2 digit, 0 other
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  if (c >= '0' && c <= '9') return 2;
  return 0;
}

// Words of at most kMaxLatinWords (false when there are more: the check is
// then skipped, so that its work stays bounded).
bool LatinWords(const DecodedForm& form, std::vector<LatinWord>* words) {
  words->clear();
  const size_t n = form.cps.size();
  for (size_t i = 0; i < n;) {
    const int kind = LatinKind(form.cps[i]);
    if (kind == 0) {
      ++i;
      continue;
    }
    if (words->size() == kMaxLatinWords) return false;
    LatinWord word;
    word.start = static_cast<uint32_t>(i);
    word.digits = kind == 2;
    while (i < n && LatinKind(form.cps[i]) == kind) {
      word.text.push_back(static_cast<char>(form.cps[i] | (kind == 1 ? 0x20 : 0)));
      ++i;
    }
    word.end = static_cast<uint32_t>(i);
    word.at_end = i == n;
    words->push_back(std::move(word));
  }
  return true;
}

size_t LongestCommonSubsequence(std::string_view a, std::string_view b) {
  thread_local std::vector<uint32_t> row;
  row.assign(b.size() + 1, 0);
  for (const char ca : a) {
    uint32_t diagonal = 0;  // row[j] of the previous line, before it changed
    for (size_t j = 0; j < b.size(); ++j) {
      const uint32_t above = row[j + 1];
      row[j + 1] = ca == b[j] ? diagonal + 1 : std::max(above, row[j]);
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Whether word a (of one text) has b (of the other) as its counterpart: the
// same word up to a typo, a cut end or a few deleted characters. Numbers
// must be the same digits (in any order: a reordered "9.4.1"); words of the
// same length may differ by one changed letter or two swapped neighbours,
// and otherwise share a subsequence of kTypoShare of the shorter.
bool Counterparts(std::string_view a, bool a_end, std::string_view b, bool b_end,
                  bool digits) {
  if (a == b) return true;
  if ((a_end && b.substr(0, a.size()) == a) || (b_end && a.substr(0, b.size()) == b)) {
    return true;
  }
  const std::string_view shorter = a.size() < b.size() ? a : b;
  const std::string_view longer = a.size() < b.size() ? b : a;
  const size_t d = longer.size() - shorter.size();
  if (d >= 1 && d <= 3) {  // a few characters deleted in one place
    for (size_t i = 0; i <= shorter.size(); ++i) {
      if (longer.substr(0, i) == shorter.substr(0, i) &&
          longer.substr(i + d) == shorter.substr(i)) {
        return true;
      }
    }
  }
  if (digits) {
    if (a.size() != b.size()) return false;
    std::string x(a), y(b);
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    return x == y;
  }
  // One typo in a word of the same length: one letter changed, or two
  // neighbours swapped (`fnu` and `gnu`, `ugi` and `gui`, which the
  // subsequence share below misses in words of three letters).
  if (a.size() == b.size()) {
    size_t first = a.size(), mismatches = 0;
    for (size_t i = 0; i < a.size() && mismatches <= 2; ++i) {
      if (a[i] != b[i]) {
        if (mismatches++ == 0) first = i;
      }
    }
    if (mismatches == 1) return true;
    if (mismatches == 2 && first + 1 < a.size() && a[first] == b[first + 1] &&
        a[first + 1] == b[first] && a.substr(first + 2) == b.substr(first + 2)) {
      return true;
    }
  }
  // The letters in common bound the common subsequence: skip the DP when
  // even they fall short.
  const double needed = kTypoShare * static_cast<double>(shorter.size());
  uint16_t count[26] = {};
  for (const char c : a) ++count[c - 'a'];
  size_t common = 0;
  for (const char c : b) {
    if (count[c - 'a'] > 0) {
      --count[c - 'a'];
      ++common;
    }
  }
  if (static_cast<double>(common) < needed) return false;
  return static_cast<double>(LongestCommonSubsequence(a, b)) >= needed;
}

// The words of x that have no counterpart among the words of y (nor among
// two neighbouring words of y read together, as an inserted character can
// split one). Letter words shorter than kMinLatinLetters are left out: one
// or two letters change by a single typo.
void UnmatchedWords(const std::vector<LatinWord>& x, const std::vector<LatinWord>& y,
                    std::vector<const LatinWord*>* out) {
  out->clear();
  thread_local std::vector<LatinWord> joined;
  joined.clear();
  const std::vector<LatinWord>* const lists[] = {&y, &joined};
  for (size_t k = 0; k + 1 < y.size(); ++k) {
    if (y[k].digits == y[k + 1].digits && y[k + 1].start - y[k].end <= 4) {
      LatinWord both;
      both.text = y[k].text + y[k + 1].text;
      both.digits = y[k].digits;
      both.at_end = y[k + 1].at_end;
      joined.push_back(std::move(both));
    }
  }
  for (const LatinWord& word : x) {
    if (!word.digits && word.text.size() < kMinLatinLetters) continue;
    bool matched = false;
    for (const std::vector<LatinWord>* candidates : lists) {
      for (const LatinWord& other : *candidates) {
        if (other.digits == word.digits &&
            Counterparts(word.text, word.at_end, other.text, other.at_end, word.digits)) {
          matched = true;
          break;
        }
      }
      if (matched) break;
    }
    if (!matched && word.text.size() >= 3) {
      for (const std::vector<LatinWord>* candidates : lists) {
        for (const LatinWord& other : *candidates) {
          if (other.text.find(word.text) != std::string::npos) {
            matched = true;
            break;
          }
        }
        if (matched) break;
      }
    }
    if (!matched) out->push_back(&word);
  }
}

// The kLatinContext code points before (after) a word; empty at the text's
// start (end).
bool SameContext(const DecodedForm& a, uint32_t a_from, uint32_t a_to,
                 const DecodedForm& b, uint32_t b_from, uint32_t b_to) {
  return a_to - a_from == b_to - b_from &&
         std::equal(a.cps.begin() + a_from, a.cps.begin() + a_to,
                    b.cps.begin() + b_from);
}

// A Latin word or number on each side with no counterpart on the other, in
// the same place (the same code points before or after it); numbers that
// differ count anywhere.
bool LatinSubstitution(const DecodedForm& a, const DecodedForm& b) {
  thread_local std::vector<LatinWord> wa, wb;
  thread_local std::vector<const LatinWord*> ua, ub;
  if (!LatinWords(a, &wa) || !LatinWords(b, &wb) || wa.empty() || wb.empty()) {
    return false;
  }
  UnmatchedWords(wa, wb, &ua);
  if (ua.empty()) return false;
  UnmatchedWords(wb, wa, &ub);
  if (ub.empty()) return false;
  const auto na = static_cast<uint32_t>(a.cps.size());
  const auto nb = static_cast<uint32_t>(b.cps.size());
  const auto ctx = static_cast<uint32_t>(kLatinContext);
  for (const LatinWord* x : ua) {
    for (const LatinWord* y : ub) {
      if (x->digits != y->digits) continue;
      if (x->digits) return true;
      if (SameContext(a, x->start - std::min(x->start, ctx), x->start, b,
                      y->start - std::min(y->start, ctx), y->start) ||
          SameContext(a, x->end, std::min(na, x->end + ctx), b, y->end,
                      std::min(nb, y->end + ctx))) {
        return true;
      }
    }
  }
  return false;
}

// Per position of a form: whether it has a shingle and none is shared
// (HasSubstanceOfItsOwn's reading).
void UnsharedPositions(const DecodedForm& form, const SharedValues& shared,
                       std::vector<uint8_t>* out) {
  const size_t n = form.cps.size();
  out->assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t c0 = form.cps[i];
    bool has = false, is_shared = false;
    if (i + 2 < n) {
      has = true;
      is_shared = shared.Contains(VerifyValue(
          c0 | uint64_t{form.cps[i + 1]} << 21 | uint64_t{form.cps[i + 2]} << 42));
    }
    if (!is_shared && i + 1 < n && form.token[i] && form.token[i + 1]) {
      has = true;
      is_shared = shared.Contains(VerifyValue(
          c0 | uint64_t{form.cps[i + 1]} << 21 | kMissingCodePoint << 42));
    }
    (*out)[i] = has && !is_shared;
  }
}

bool HasHan(const uint32_t* begin, const uint32_t* end) {
  for (; begin != end; ++begin) {
    if (DecodedForm::IsHanForSubstitution(*begin)) return true;
  }
  return false;
}

// In a short pair, a stretch of at least two code points replaced by at
// least two others (a gap of their longest common subsequence, on both
// sides, with Han characters), not the same characters moved, where each
// side has kHanSubstitutionPositions positions whose shingles the other
// lacks. One mistyped character is not one: it leaves a gap of one.
bool HanSubstitution(const DecodedForm& a, const DecodedForm& b,
                     const SharedValues& shared) {
  const size_t n = a.cps.size(), m = b.cps.size();
  // Suffix LCS lengths, (n + 1) x (m + 1); n < kHanSubstitutionChars.
  thread_local std::vector<uint16_t> table;
  table.assign((n + 1) * (m + 1), 0);
  const auto at = [&](size_t i, size_t j) -> uint16_t& { return table[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      at(i, j) = a.cps[i] == b.cps[j] ? static_cast<uint16_t>(at(i + 1, j + 1) + 1)
                                      : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  thread_local std::vector<uint8_t> unshared_a, unshared_b;
  bool flags = false;
  const auto substituted = [&](size_t i1, size_t i2, size_t j1, size_t j2) {
    if (std::min(i2 - i1, j2 - j1) < 2) return false;
    const uint32_t* x = a.cps.data();
    const uint32_t* y = b.cps.data();
    if (!HasHan(x + i1, x + i2) || !HasHan(y + j1, y + j2)) return false;
    if (i2 - i1 == j2 - j1) {
      std::vector<uint32_t> sx(x + i1, x + i2), sy(y + j1, y + j2);
      std::sort(sx.begin(), sx.end());
      std::sort(sy.begin(), sy.end());
      if (sx == sy) return false;  // the same characters, moved
    }
    if (!flags) {
      UnsharedPositions(a, shared, &unshared_a);
      UnsharedPositions(b, shared, &unshared_b);
      flags = true;
    }
    size_t ux = 0, uy = 0;
    for (size_t k = i1 < 2 ? 0 : i1 - 2; k < i2; ++k) ux += unshared_a[k];
    for (size_t k = j1 < 2 ? 0 : j1 - 2; k < j2; ++k) uy += unshared_b[k];
    return ux >= kHanSubstitutionPositions && uy >= kHanSubstitutionPositions;
  };
  size_t i = 0, j = 0, gi = 0, gj = 0;
  while (i < n && j < m) {
    if (a.cps[i] == b.cps[j]) {
      if (i > gi && j > gj && substituted(gi, i, gj, j)) return true;
      gi = ++i;
      gj = ++j;
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      ++i;
    } else {
      ++j;
    }
  }
  return n > gi && m > gj && substituted(gi, n, gj, m);
}

// Both Chinese (with Han characters): a Latin word or number substituted
// (the shorter text under kLatinSubstitutionChars code points), or a run of
// Han characters (under kHanSubstitutionChars).
bool SubstitutedWords(std::string_view text_a, std::string_view text_b,
                      const SharedValues& shared) {
  // The same order whichever text is asked first.
  if (text_b.size() < text_a.size() || (text_b.size() == text_a.size() && text_b < text_a)) {
    std::swap(text_a, text_b);
  }
  const size_t shorter = std::min(CodePointCount(text_a), CodePointCount(text_b));
  if (shorter >= kLatinSubstitutionChars && shorter >= kHanSubstitutionChars) return false;
  thread_local DecodedForm a, b;
  a.Decode(text_a);
  b.Decode(text_b);
  if (!a.has_han || !b.has_han) return false;
  if (a.cps.size() > b.cps.size()) std::swap(a, b);  // a: the shorter
  if (shorter < kLatinSubstitutionChars && LatinSubstitution(a, b)) return true;
  return shorter < kHanSubstitutionChars && HanSubstitution(a, b, shared);
}

}  // namespace

bool DifferentSubstance(const MinHashSignature& a,
                        const MinHashSignature& b) noexcept {
  if (a.version != 3 || b.version != 3) return false;
  return DifferentSubstanceOf(a.text, a.shingles.data(), a.shingles.size(),
                              a.shingle_count, b.text, b.shingles.data(),
                              b.shingles.size(), b.shingle_count);
}

void SubstanceOf(std::string_view text_a, const uint32_t* x, size_t nx, uint32_t count_x,
                 std::string_view text_b, const uint32_t* y, size_t ny, uint32_t count_y,
                 bool* each_own, bool* different) noexcept {
  *each_own = *different = false;
  if (text_a.empty() || text_b.empty() || nx != count_x || ny != count_y) return;
  thread_local SharedValues shared;
  shared.Fill(x, nx, y, ny);
  // The shorter first: a cut or quoted report has nothing of its own, and
  // the answer is then known from one text.
  if (text_b.size() < text_a.size()) std::swap(text_a, text_b);
  *each_own = HasSubstanceOfItsOwn(text_a, shared) && HasSubstanceOfItsOwn(text_b, shared);
  *different = *each_own || SubstitutedWords(text_a, text_b, shared);
}

bool DifferentSubstanceOf(std::string_view text_a, const uint32_t* x, size_t nx,
                          uint32_t count_x, std::string_view text_b,
                          const uint32_t* y, size_t ny, uint32_t count_y) noexcept {
  bool each_own = false, different = false;
  SubstanceOf(text_a, x, nx, count_x, text_b, y, ny, count_y, &each_own, &different);
  return different;
}

namespace {

// XXH64 (seed 0) of a band's bytes, from its words: `prefix` is the band's
// first bytes (one or two, little-endian in the word) and three LE32
// values follow. The same bits as XxHash64 over the bytes (a lane of 8
// bytes, then 4, then the rest one at a time), without building them.
inline int64_t ThreeValueKey(uint64_t prefix, size_t prefix_bytes, uint32_t v0,
                             uint32_t v1, uint32_t v2) noexcept {
  using internal::kXxhPrime1;
  using internal::kXxhPrime2;
  using internal::kXxhPrime3;
  using internal::kXxhPrime4;
  using internal::kXxhPrime5;
  using internal::XxhRotl;
  // The 12 value bytes after the prefix, as one 128-bit little-endian run.
  const unsigned __int128 tail = static_cast<unsigned __int128>(v0) |
                                 static_cast<unsigned __int128>(v1) << 32 |
                                 static_cast<unsigned __int128>(v2) << 64;
  const unsigned __int128 all = static_cast<unsigned __int128>(prefix) |
                                tail << (8 * prefix_bytes);
  const size_t size = prefix_bytes + 12;
  uint64_t h = kXxhPrime5 + size;
  const auto lane = static_cast<uint64_t>(all);
  h ^= XxhRotl(lane * kXxhPrime2, 31) * kXxhPrime1;
  h = XxhRotl(h, 27) * kXxhPrime1 + kXxhPrime4;
  const auto word = static_cast<uint32_t>(all >> 64);
  h ^= static_cast<uint64_t>(word) * kXxhPrime1;
  h = XxhRotl(h, 23) * kXxhPrime2 + kXxhPrime3;
  for (size_t i = 12; i < size; ++i) {
    h ^= static_cast<uint64_t>(static_cast<uint8_t>(all >> (8 * i))) * kXxhPrime5;
    h = XxhRotl(h, 11) * kXxhPrime1;
  }
  h ^= h >> 33;
  h *= kXxhPrime2;
  h ^= h >> 29;
  h *= kXxhPrime3;
  h ^= h >> 32;
  return static_cast<int64_t>(h & 0x7FFFFFFFFFFFFFFFULL);
}

}  // namespace

int64_t BandKey(const MinHashSignature& signature, size_t band) noexcept {
  const uint32_t* v = signature.values.data();
  if (signature.version == 1) {
    uint8_t bytes[1 + 4 * kLshRows];
    bytes[0] = static_cast<uint8_t>(band);
    for (size_t r = 0; r < kLshRows; ++r) {
      StoreLe32(bytes + 1 + 4 * r, v[band * kLshRows + r]);
    }
    return static_cast<int64_t>(XxHash64(bytes, sizeof bytes, 0) &
                                0x7FFFFFFFFFFFFFFFULL);
  }
  if (band < kLshBandsV2) {
    const uint32_t* rows = v + band * kLshRowsV2;
    return ThreeValueKey(0x80 | band, 1, rows[0], rows[1], rows[2]);
  }
  const size_t start = kExtraWindows.start[band - kLshBandsV2];
  return ThreeValueKey(0xC0 | start << 8, 2, v[start],
                       v[(start + 1) % kMinHashPermutations],
                       v[(start + 2) % kMinHashPermutations]);
}

std::vector<int64_t> BandKeys(const MinHashSignature& signature) {
  std::vector<int64_t> keys;
  if (signature.empty()) return keys;
  size_t bands = LshBands(signature.version);
  if (HasExtraWindows(signature.version, signature.shingle_count)) {
    bands += kLshExtraBands;
  }
  keys.reserve(bands);
  for (size_t band = 0; band < bands; ++band) keys.push_back(BandKey(signature, band));
  return keys;
}

}  // namespace tipline
