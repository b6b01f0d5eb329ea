// MinHash signatures for near-duplicate reports, and LSH band keys.
//
// Shingles. NormalizeForDedup(text) is cut into tokens: each code point of a
// script written without spaces (Han, kana, Thai, ...) is a token, and each
// run of other non-space code points is a token. Every pair of adjacent tokens
// is a shingle (character bigrams in Chinese, word bigrams in English, both in
// mixed text); a one-token text has that token as its only shingle.
//
// Hashes. token_hash = XXH64(token UTF-8, seed 0). A shingle's hash is
// XXH64(LE64(token_hash[i]) || LE64(token_hash[i+1]), seed 0), or
// XXH64(LE64(token_hash[0]), seed 0) for a one-token text. XXH64 is
// implemented from its public specification (internal/xxhash64.h).
//
// Permutations. Value i of a signature is the minimum over shingle hashes h
// of ((a_i * h + b_i) mod 2^64) >> 32 (Dietzfelbinger's multiply-add-shift
// universal family), a_i odd. (a_i, b_i) are drawn in order from SplitMix64
// seeded with kMinHashSeed: a_i = next() | 1, b_i = next().
//
// Signature bytes (kSignatureBytes = 516), all integers little-endian:
//   [0]      format version, kSignatureVersion (1)
//   [1]      0 (reserved)
//   [2..3]   uint16 permutation count, 128
//   [4..515] 128 x uint32 minimum values, permutation 0 first
// A text with no shingles (empty after normalisation) has every value
// 0xFFFFFFFF; such an "empty" signature matches nothing.
//
// LSH. The 128 values form kLshBands = 32 bands of kLshRows = 4 rows. Two
// texts of Jaccard similarity s share at least one band with probability
// 1 - (1 - s^4)^32: 0.87 at s = 0.5, 0.99 at 0.6, 0.23 at 0.3, 0.05 at 0.2.
// That suits thresholds from about 0.4 up; the candidate is then checked
// against the threshold with the full signature. Band key j is
// XXH64(byte j || LE32 values[4j..4j+3], seed 0) with the top bit cleared:
// a non-negative 63-bit integer that fits in an SQL BIGINT and is distinct
// across bands, so one indexed column holds all of them.
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
inline constexpr uint8_t kSignatureVersion = 1;
inline constexpr size_t kSignatureHeaderBytes = 4;
inline constexpr size_t kSignatureBytes =
    kSignatureHeaderBytes + 4 * kMinHashPermutations;
inline constexpr size_t kLshBands = 32;
inline constexpr size_t kLshRows = 4;
static_assert(kLshBands * kLshRows == kMinHashPermutations);
inline constexpr uint64_t kMinHashSeed = 0x5469706c696e6531ULL;  // "Tipline1"

struct MinHashSignature {
  std::array<uint32_t, kMinHashPermutations> values;

  // True when the text had no shingles (every value is the maximum).
  bool empty() const noexcept;
  bool operator==(const MinHashSignature& other) const noexcept {
    return values == other.values;
  }
};

// XXH64 of data[0, size) (the reference algorithm, bit-exact).
uint64_t XxHash64(const void* data, size_t size, uint64_t seed) noexcept;

// Shingle hashes of text that is already normalised (see above).
std::vector<uint64_t> ShingleHashes(std::string_view normalized);

// The signature of a set of shingle hashes (duplicates are harmless).
MinHashSignature MinHashOfShingles(const uint64_t* hashes, size_t count);

// NormalizeForDedup + ShingleHashes + MinHashOfShingles.
[[nodiscard]] Result<MinHashSignature> ComputeSignature(std::string_view text);

// Signatures of many texts, on all cores. On failure returns the status of
// the first failing text (lowest index) and *failed_index is set to it.
[[nodiscard]] Status ComputeSignatures(const std::vector<std::string_view>& texts,
                                       std::vector<MinHashSignature>* out,
                                       size_t* failed_index = nullptr);

std::string EncodeSignature(const MinHashSignature& signature);

// kInvalidArgument on a wrong length, version, reserved byte or count.
[[nodiscard]] Result<MinHashSignature> DecodeSignature(std::string_view bytes);

// Fraction of equal values: an unbiased estimate of the Jaccard similarity of
// the shingle sets. 0.0 if either signature is empty.
double EstimateSimilarity(const MinHashSignature& a,
                          const MinHashSignature& b) noexcept;

// The kLshBands band keys (see above); none for an empty signature.
std::vector<int64_t> BandKeys(const MinHashSignature& signature);
int64_t BandKey(const MinHashSignature& signature, size_t band) noexcept;

}  // namespace tipline

#endif  // TIPLINE_MINHASH_H_
