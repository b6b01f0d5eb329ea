// MinHash signatures for near-duplicate reports, LSH band keys, and what
// verifies a candidate: the exact shingle sets and the text's matching form.
//
// Three versions are defined. Version 3 is what new signatures are. Version
// 2 signatures have the same values, verify sets and 42 band keys as version
// 3 (a version-3 query finds them and compares with them directly); version
// 1 is still decoded, compared with version-1 signatures and banded. Old
// signatures keep finding their duplicates until they are re-signed (the
// module's cron job does that a batch at a time).
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
// Versions 2 and 3 (character shingles, one-permutation MinHash, verify set).
//   Shingles. NormalizeForDedup(text) (NFKC_Casefold, OpenCC t2s) with
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
//   LSH: kLshBandsV2 = 42 regular bands of kLshRowsV2 = 3 values (126 of the
//   128): band key j is XXH64(byte (0x80 | j) || LE32 values[3j..3j+2], seed
//   0) & (2^63 - 1), never equal to a version-1 key of the same band. Pairs
//   of Jaccard similarity s share a band with probability 1 - (1 - s^3)^42:
//   0.68 at 0.3, 0.94 at 0.4, 0.996 at 0.5, so candidates come at a lower
//   similarity than the decision needs, and the verify step decides.
//   Version 3 adds, for short texts, the other kLshExtraBands = 86 windows of
//   three values taken cyclically (values[w], values[w+1 mod 128],
//   values[w+2 mod 128] for every start w that is not a multiple of 3 below
//   126, and w = 126): key XXH64(byte 0xC0 || byte w || LE32 the three
//   values, seed 0) & (2^63 - 1). A text of at most kShortTextShingles
//   shingles is stored under them too and looks them up: a short text has
//   few shingles, so one typo moves a large share of its values, and the
//   windows give it three times the chances (0.91 instead of 0.68 at 0.3).
//   Only short texts look them up, since only short texts are stored under
//   them: a text of up to three times as many also did until 2026-12, which
//   found about 0.1 % more of the benchmarks' true pairs for three times the
//   band lookups (README, De-duplication quality).
//
// Version 3 also keeps the text's matching form, the t2s reading without
// spaces (at most kMaxVerifyTextChars code points, else none), which the
// verify step reads in order (DifferentSubstance).
//
// Signature bytes, all integers little-endian:
//   [0]      format version (1, 2 or 3)
//   [1]      version 1: 0 (reserved); later: 1 for a Chinese text (at
//            least half of its non-space code points written without
//            spaces), else 0
//   [2..3]   uint16 value count, 128
//   [4..515] 128 x uint32 values, bin/permutation 0 first
//   versions 2 and 3:
//   [516..519] uint32 distinct shingles of the text (may exceed the next)
//   [520..523] uint32 n, the verify-set values that follow (<= 4096)
//   [524..]    n x uint32, strictly ascending
//   version 3:
//   then       uint32 m, the bytes of the matching form, and its m bytes of
//              UTF-8 (no spaces)
// A text with no shingles (empty after normalisation) has every value
// 0xFFFFFFFF (and an empty verify set); such an "empty" signature matches
// nothing.
#ifndef TIPLINE_MINHASH_H_
#define TIPLINE_MINHASH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tipline/status.h"

namespace tipline {

inline constexpr size_t kMinHashPermutations = 128;
// The version new signatures get.
inline constexpr uint8_t kSignatureVersion = 3;
inline constexpr uint8_t kSignatureVersion2 = 2;
inline constexpr uint8_t kSignatureVersion1 = 1;
inline constexpr size_t kSignatureHeaderBytes = 4;
// The MinHash part (the whole of a version-1 signature).
inline constexpr size_t kSignatureBytes =
    kSignatureHeaderBytes + 4 * kMinHashPermutations;
inline constexpr size_t kVerifyHeaderBytes = 8;
inline constexpr size_t kMaxVerifyShingles = 4096;
inline constexpr size_t kMaxVerifyTextChars = 4096;
inline constexpr size_t kLshBands = 32;  // version 1
inline constexpr size_t kLshRows = 4;
static_assert(kLshBands * kLshRows == kMinHashPermutations);
inline constexpr size_t kLshBandsV2 = 42;  // versions 2 and 3: regular bands
inline constexpr size_t kLshRowsV2 = 3;
static_assert(kLshBandsV2 * kLshRowsV2 <= kMinHashPermutations);
inline constexpr size_t kLshExtraBands = kMinHashPermutations - kLshBandsV2;  // 86
inline constexpr size_t kMaxLshBands = kLshBandsV2 + kLshExtraBands;
inline constexpr uint32_t kShortTextShingles = 48;
inline constexpr uint64_t kMinHashSeed = 0x5469706c696e6531ULL;    // "Tipline1"
inline constexpr uint64_t kMinHashSeedV2 = 0x5469706c696e6532ULL;  // "Tipline2"

// Whether signatures of these versions can be compared (1 with 1; 2 and 3
// with each other).
constexpr bool ComparableVersions(uint8_t a, uint8_t b) noexcept {
  return a == b || (a >= 2 && b >= 2 && a <= 3 && b <= 3);
}

// Whether a text of this version and distinct shingle count is stored
// under, and looks up, the extra windows as well as the regular bands: a
// short version-3 text.
constexpr bool HasExtraWindows(uint8_t version, uint32_t shingle_count) noexcept {
  return version == 3 && shingle_count <= kShortTextShingles;
}

struct MinHashSignature {
  std::array<uint32_t, kMinHashPermutations> values;
  uint8_t version = kSignatureVersion;
  // Versions 2 and 3: whether at least half of the text's non-space code
  // points are written without spaces (Chinese); such pairs have their own
  // thresholds.
  bool cjk = false;
  // Versions 2 and 3: the verify set (ascending) and the text's distinct
  // shingle count (shingles.size() unless the set was cut to
  // kMaxVerifyShingles).
  std::vector<uint32_t> shingles;
  uint32_t shingle_count = 0;
  // Version 3: the matching form without spaces (empty when longer than
  // kMaxVerifyTextChars code points).
  std::string text;

  // True when the text had no shingles (every value is the maximum).
  bool empty() const noexcept;
  bool operator==(const MinHashSignature& other) const noexcept {
    return values == other.values && version == other.version && cjk == other.cjk &&
           shingles == other.shingles && shingle_count == other.shingle_count &&
           text == other.text;
  }
  bool operator!=(const MinHashSignature& other) const noexcept {
    return !(*this == other);
  }
};

// Exact overlap of two verify sets (estimated from the bottom-k sketches
// when either was cut).
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
// version 1 (MinHashOfShingles) or versions 2 and 3 (SignatureOfShingles;
// without a matching form, so never DifferentSubstance).
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
// The encoded signatures of a batch: item(i) is text i's EncodeSignature,
// a view into one of the chunks (one per thread that encoded).
struct EncodedSignatures {
  std::vector<std::unique_ptr<char[]>> chunks;
  std::vector<std::string_view> items;
};
// ComputeSignatures, encoded as they are made; on failure *out is empty.
[[nodiscard]] Status ComputeEncodedSignatures(
    const std::vector<std::string_view>& texts, EncodedSignatures* out,
    size_t* failed_index = nullptr, uint8_t version = kSignatureVersion);

std::string EncodeSignature(const MinHashSignature& signature);

// kInvalidArgument on a wrong length, version, reserved byte or count, a
// verify set that is not strictly ascending or longer than allowed, or a
// matching form that is not UTF-8.
[[nodiscard]] Result<MinHashSignature> DecodeSignature(std::string_view bytes);

// Fraction of equal values: an estimate of the Jaccard similarity of the
// shingle sets. 0.0 if either signature is empty or the versions are not
// comparable.
double EstimateSimilarity(const MinHashSignature& a,
                          const MinHashSignature& b) noexcept;

// The verify step: overlap of two verify sets of versions 2 or 3; all zero
// if either is empty or of version 1.
ShingleOverlap VerifyOverlap(const MinHashSignature& a,
                             const MinHashSignature& b) noexcept;
// The same on raw verify sets (ascending; count_* = the texts' distinct
// shingles, more than n* when a set was cut).
ShingleOverlap OverlapOfSets(const uint32_t* x, size_t nx, uint32_t count_x,
                             const uint32_t* y, size_t ny,
                             uint32_t count_y) noexcept;

// The verify step's second question, for a pair that overlaps: do both texts
// carry substance of their own? Reading each matching form in order, a
// position (code point) is shared when one of its shingles (the 3-gram it
// starts, and the 2-gram if both code points are written without spaces)
// is in the other's verify set; true when, in both texts, at least
// kSubstanceShare of the positions lie in runs of kSubstanceRun or more
// positions that are not shared. Two different messages wrapped in the same
// greeting and signature, or a text spliced from halves of two, are like
// that; a text with typos, a few inserted words, a cut end or a quotation
// around it is not on at least one side.
//
// Also true, for two texts that both have Han characters, when one word was
// put in the place of another (short template lines such as "表 3.5. 典型的
// journalctl 命令片段列表" and "表 3.6. 典型的 systemctl 命令片段列表", or "ALTER
// AGGREGATE - 修改一个聚集函数的定义" and "ALTER FUNCTION - 修改一个函数的定义"):
// - the shorter under kLatinSubstitutionChars code points: each text has a
//   Latin word (a run of ASCII letters, at least kMinLatinLetters of them) or
//   a number (a run of digits) with no counterpart in the other, and the two
//   are numbers, or words with the same kLatinContext code points before or
//   after them. Counterparts: equal; a cut word at a text's end that starts
//   the other; one to three characters deleted in one place; numbers of the
//   same digits (a reordered "9.4.1"); words of the same length with one
//   letter changed or two neighbours swapped, or whose longest common
//   subsequence is kTypoShare of the shorter (typos); or a word found
//   inside the other's word, or two neighbouring words of the other read
//   together;
// - the shorter under kHanSubstitutionChars code points: a gap of the two
//   matching forms' longest common subsequence of at least two code points
//   on each side, with Han characters on each side and not the same
//   characters reordered, where each side has kHanSubstitutionPositions
//   positions (in the gap and the two before it) whose shingles the other
//   lacks ("第二条" against "第八条" is one mistyped character: a gap of one).
// These rules were chosen on replica seeds 1-3 with --curate exact, the
// development split and dedup_quality.py's seed (README, "De-duplication
// quality").
//
// False when either signature has no matching form (versions 1 and 2, long
// texts, SignatureOfShingles) or either verify set was cut.
inline constexpr size_t kSubstanceRun = 9;
inline constexpr double kSubstanceShare = 0.15;
inline constexpr size_t kLatinSubstitutionChars = 60;
inline constexpr size_t kHanSubstitutionChars = 20;
inline constexpr size_t kHanSubstitutionPositions = 3;
inline constexpr size_t kMinLatinLetters = 3;
inline constexpr size_t kLatinContext = 2;
inline constexpr double kTypoShare = 0.7;
// More Latin words than this in a text: the Latin rule is skipped (bounded
// work).
inline constexpr size_t kMaxLatinWords = 256;
bool DifferentSubstance(const MinHashSignature& a,
                        const MinHashSignature& b) noexcept;
// The same on raw parts (matching forms, ascending verify sets and the
// texts' distinct shingle counts).
bool DifferentSubstanceOf(std::string_view text_a, const uint32_t* x, size_t nx,
                          uint32_t count_x, std::string_view text_b,
                          const uint32_t* y, size_t ny, uint32_t count_y) noexcept;

// DifferentSubstanceOf's answer (*different) and its first question's alone
// (*each_own: do both texts carry runs of their own, kSubstanceRun and
// kSubstanceShare?), in one reading. The verify model (tipline/dedup_model.h)
// takes both as features and overrules the first only with more certainty.
void SubstanceOf(std::string_view text_a, const uint32_t* x, size_t nx, uint32_t count_x,
                 std::string_view text_b, const uint32_t* y, size_t ny, uint32_t count_y,
                 bool* each_own, bool* different) noexcept;

// Band keys: those a signature is stored under and looks up (the regular
// bands, and for a short version-3 text the extra windows too). None for an
// empty signature.
std::vector<int64_t> BandKeys(const MinHashSignature& signature);
// Regular band `band` (below kLshBands or kLshBandsV2), or for versions 2
// and 3 from kLshBandsV2 on the extra windows in order.
int64_t BandKey(const MinHashSignature& signature, size_t band) noexcept;
// The bands of the signature's version (regular ones only: 32 or 42).
size_t LshBands(uint8_t version) noexcept;

}  // namespace tipline

#endif  // TIPLINE_MINHASH_H_
