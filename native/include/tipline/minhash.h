// MinHash signatures for near-duplicate reports, LSH band keys, and the
// exact shingle sets that verify a candidate.
//
// Two versions are defined. Version 2 is what new signatures are; version 1
// is still decoded, compared with version-1 signatures and banded, so that
// reports signed before version 2 keep finding their duplicates until they
// are re-signed (the module's cron job does that a batch at a time).
//
// Version 1 (word shingles, 128-permutation MinHash).
//   Shingles. NormalizeForDedup(text, 1) is cut into tokens: each code point
//   of a script written without spaces (Han, kana, Thai, ...) is a token, and
//   each run of other non-space code points is a token. Every pair of
//   adjacent tokens is a shingle; a one-token text has that token as its only
//   shingle. token_hash = XXH64(token UTF-8, seed 0); a shingle's hash is
//   XXH64(LE64(token_hash[i]) || LE64(token_hash[i+1]), seed 0), or
//   XXH64(LE64(token_hash[0]), seed 0) for a one-token text. XXH64 is
//   implemented from its public specification (internal/xxhash64.h).
//   Permutations. Value i is the minimum over shingle hashes h of
//   ((a_i * h + b_i) mod 2^64) >> 32 (multiply-add-shift), a_i odd, (a_i, b_i)
//   drawn in order from SplitMix64 seeded with kMinHashSeed: a_i = next() | 1,
//   b_i = next().
//   LSH: kLshBands = 32 bands of kLshRows = 4 values; band key j is
//   XXH64(byte j || LE32 values[4j..4j+3], seed 0) & (2^63 - 1).
//
// Version 2 (character shingles, one-permutation MinHash, verify set).
//   Shingles. NormalizeForDedup(text, 2) (NFKC_Casefold, OpenCC t2s) with
//   its spaces removed is a sequence of code points c_0..c_{n-1}, so that
//   spacing and punctuation never matter. The shingles are every character
//   3-gram (c_i, c_i+1, c_i+2) and, where both are written without spaces
//   (Han, kana, ...), every 2-gram (c_i, c_i+1); a text of one or two code
//   points has itself as its only shingle. When the OpenCC tw2sp reading of
//   the text differs (Taiwan vocabulary, normalize.h), its shingles are added
//   too (the set is the union of both readings'). A typo then costs about three
//   shingles instead of two whole words. Shingle key: the code points packed
//   21 bits each, c_0 | c_1 << 21 | c_2 << 42, with 0x1FFFFF in the places a
//   2-gram or 1-gram lacks; shingle hash h = Mix64(key ^ kMinHashSeedV2),
//   Mix64 being SplitMix64's finaliser (a bijection).
//   One-permutation MinHash: bin = h >> 57 (128 bins), value = the minimum of
//   (uint32) h over the shingles in the bin. An empty bin b takes the value
//   of bin j for the first non-empty j in the sequence j_t = Mix64(
//   kMinHashSeedV2 ^ (b << 32 | t)) & 127, t = 1, 2, ... (optimal
//   densification, Shrivastava 2017): equal values still estimate Jaccard
//   similarity, at one hash per shingle instead of 128.
//   Verify set: the ascending distinct values h >> 32 of the shingles, at
//   most kMaxVerifyShingles of them (the smallest: a bottom-k sketch when a
//   text has more); a candidate is verified on these sets, exactly for any
//   report of fewer than about 2,000 characters.
//   LSH: kLshBandsV2 = 42 bands of kLshRowsV2 = 3 values (126 of the 128);
//   band key j is XXH64(byte (0x80 | j) || LE32 values[3j..3j+2], seed 0) &
//   (2^63 - 1), never equal to a version-1 key of the same band. Pairs of
//   Jaccard similarity s share a band with probability 1 - (1 - s^3)^42:
//   0.68 at 0.3, 0.94 at 0.4, 0.996 at 0.5, so candidates come at a lower
//   similarity than the decision needs, and the verify step decides.
//
// Signature bytes, all integers little-endian:
//   [0]      format version (1 or 2)
//   [1]      version 1: 0 (reserved); version 2: 1 for a Chinese text (at
//            least half of its non-space code points written without
//            spaces), else 0
//   [2..3]   uint16 value count, 128
//   [4..515] 128 x uint32 values, bin/permutation 0 first
//   version 2 only:
//   [516..519] uint32 distinct shingles of the text (may exceed the next)
//   [520..523] uint32 n, the verify-set values that follow (<= 4096)
//   [524..]    n x uint32, strictly ascending
// A text with no shingles (empty after normalisation) has every value
// 0xFFFFFFFF (and an empty verify set); such an "empty" signature matches
// nothing.
#ifndef TIPLINE_MINHASH_H_
#define TIPLINE_MINHASH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tipline/status.h"

namespace tipline {

inline constexpr size_t kMinHashPermutations = 128;
// The version new signatures get.
inline constexpr uint8_t kSignatureVersion = 2;
inline constexpr uint8_t kSignatureVersion1 = 1;
inline constexpr size_t kSignatureHeaderBytes = 4;
// The MinHash part (the whole of a version-1 signature).
inline constexpr size_t kSignatureBytes =
    kSignatureHeaderBytes + 4 * kMinHashPermutations;
inline constexpr size_t kVerifyHeaderBytes = 8;
inline constexpr size_t kMaxVerifyShingles = 4096;
inline constexpr size_t kLshBands = 32;  // version 1
inline constexpr size_t kLshRows = 4;
static_assert(kLshBands * kLshRows == kMinHashPermutations);
inline constexpr size_t kLshBandsV2 = 42;
inline constexpr size_t kLshRowsV2 = 3;
static_assert(kLshBandsV2 * kLshRowsV2 <= kMinHashPermutations);
inline constexpr size_t kMaxLshBands = kLshBandsV2;
inline constexpr uint64_t kMinHashSeed = 0x5469706c696e6531ULL;    // "Tipline1"
inline constexpr uint64_t kMinHashSeedV2 = 0x5469706c696e6532ULL;  // "Tipline2"

// The bands and rows of a version (0 for an unknown one).
size_t LshBands(uint8_t version) noexcept;
size_t LshRows(uint8_t version) noexcept;

struct MinHashSignature {
  std::array<uint32_t, kMinHashPermutations> values;
  uint8_t version = kSignatureVersion;
  // Version 2: whether at least half of the text's non-space code points are
  // written without spaces (Chinese); such pairs have a lower threshold.
  bool cjk = false;
  // Version 2: the verify set (ascending) and the text's distinct shingle
  // count (shingles.size() unless the set was cut to kMaxVerifyShingles).
  std::vector<uint32_t> shingles;
  uint32_t shingle_count = 0;

  // True when the text had no shingles (every value is the maximum).
  bool empty() const noexcept;
  bool operator==(const MinHashSignature& other) const noexcept {
    return values == other.values && version == other.version && cjk == other.cjk &&
           shingles == other.shingles && shingle_count == other.shingle_count;
  }
  bool operator!=(const MinHashSignature& other) const noexcept {
    return !(*this == other);
  }
};

// Exact overlap of two version-2 verify sets (estimated from the bottom-k
// sketches when either was cut).
struct ShingleOverlap {
  double jaccard = 0.0;      // |A n B| / |A u B|
  double containment = 0.0;  // |A n B| / min(|A|, |B|)
  uint32_t smaller = 0;      // min(|A|, |B|)
};

// XXH64 of data[0, size) (the reference algorithm, bit-exact).
uint64_t XxHash64(const void* data, size_t size, uint64_t seed) noexcept;

// Shingle hashes of text that is already normalised by the same version.
std::vector<uint64_t> ShingleHashes(std::string_view normalized,
                                    uint8_t version = kSignatureVersion);

// The signature of a set of shingle hashes (duplicates are harmless), in
// version 1 (MinHashOfShingles) or version 2 (SignatureOfShingles).
MinHashSignature MinHashOfShingles(const uint64_t* hashes, size_t count);
MinHashSignature SignatureOfShingles(const uint64_t* hashes, size_t count,
                                     uint8_t version = kSignatureVersion);

// NormalizeForDedup + ShingleHashes + SignatureOfShingles. kInvalidArgument
// for an unknown version.
[[nodiscard]] Result<MinHashSignature> ComputeSignature(
    std::string_view text, uint8_t version = kSignatureVersion);

// Signatures of many texts, on all cores. On failure returns the status of
// the first failing text (lowest index) and *failed_index is set to it.
[[nodiscard]] Status ComputeSignatures(const std::vector<std::string_view>& texts,
                                       std::vector<MinHashSignature>* out,
                                       size_t* failed_index = nullptr,
                                       uint8_t version = kSignatureVersion);

std::string EncodeSignature(const MinHashSignature& signature);

// kInvalidArgument on a wrong length, version, reserved byte or count, or a
// verify set that is not strictly ascending or longer than allowed.
[[nodiscard]] Result<MinHashSignature> DecodeSignature(std::string_view bytes);

// Fraction of equal values: an estimate of the Jaccard similarity of the
// shingle sets. 0.0 if either signature is empty or the versions differ.
double EstimateSimilarity(const MinHashSignature& a,
                          const MinHashSignature& b) noexcept;

// The verify step: overlap of two version-2 verify sets; all zero if either
// is empty or not version 2.
ShingleOverlap VerifyOverlap(const MinHashSignature& a,
                             const MinHashSignature& b) noexcept;
// The same on raw verify sets (ascending; count_* = the texts' distinct
// shingles, more than n* when a set was cut).
ShingleOverlap OverlapOfSets(const uint32_t* x, size_t nx, uint32_t count_x,
                             const uint32_t* y, size_t ny,
                             uint32_t count_y) noexcept;

// The LshBands(version) band keys (see above); none for an empty signature.
std::vector<int64_t> BandKeys(const MinHashSignature& signature);
int64_t BandKey(const MinHashSignature& signature, size_t band) noexcept;

}  // namespace tipline

#endif  // TIPLINE_MINHASH_H_
