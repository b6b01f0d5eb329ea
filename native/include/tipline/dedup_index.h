// An in-memory near-duplicate index over MinHash signatures (tipline/minhash.h)
// with LSH banding. An index holds signatures of one version.
//
// Version 2 (the default): a query looks up its 42 band keys (3 values
// each, so candidates come down to a Jaccard similarity of about 0.3), drops
// candidates whose MinHash estimate cannot reach either threshold (see
// kVerifyMargin), then verifies
// the rest exactly on their shingle sets: a candidate matches when the
// Jaccard similarity reaches threshold() (threshold() * kCjkThresholdScale
// when both texts are Chinese: character n-grams of Chinese text rarely
// overlap by chance, and one wrong character costs a larger share of a
// short text's shingles), or when the containment (overlap
// over the smaller set) reaches containment() and the smaller text has at
// least kMinContainmentShingles shingles (a truncated report, or one quoted
// inside a longer one). Version 1: the candidates' estimated similarity must
// reach threshold(), as before version 2.
//
// Readers (Query, size) share a lock; writers (Add, Remove) take it
// exclusively.
#ifndef TIPLINE_DEDUP_INDEX_H_
#define TIPLINE_DEDUP_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tipline/minhash.h"
#include "tipline/status.h"

namespace tipline {

// Version 2's Jaccard and containment thresholds, chosen on the development
// split of tests/bench/dedup_holdout.py and on dedup_quality.py's set, never
// on the held-out split (README, "De-duplication quality"). The Chinese
// scale trades the development split's short Chinese recall (5/7 was best
// there) against dedup_quality.py's spliced negatives (half of one text and
// half of another: exact Jaccard about 0.35), which 5/7 matched.
inline constexpr double kDefaultDedupThreshold = 0.42;
inline constexpr double kCjkThresholdScale = 6.0 / 7.0;  // 0.42 -> 0.36
inline constexpr double kDefaultContainmentThreshold = 0.8;
inline constexpr uint32_t kMinContainmentShingles = 16;
// A candidate is verified unless its MinHash estimate plus this margin
// (about four standard deviations at 128 values) reaches neither threshold.
inline constexpr double kVerifyMargin = 0.15;
// Version 2's bounds on a query's work, whatever the stored texts: an LSH
// bucket (one band key) holds at most kMaxBucketSlots texts (a key that
// common, such as a shared greeting's, says little; later texts stay out of
// it but are found through their other bands), and at most
// kMaxVerifiedCandidates candidates, those that share the most bands with
// the query, are verified.
inline constexpr size_t kMaxBucketSlots = 16;
inline constexpr size_t kMaxVerifiedCandidates = 64;
// Version 1's estimated-similarity threshold.
inline constexpr double kDefaultDedupThresholdV1 = 0.5;

struct DedupMatch {
  int64_t key;
  // Version 2: the exact Jaccard similarity if it reached the threshold,
  // else the containment that matched; version 1: the estimated Jaccard
  // similarity. In [threshold or containment threshold, 1].
  double similarity;
  bool operator==(const DedupMatch& o) const noexcept {
    return key == o.key && similarity == o.similarity;
  }
};

// The version-2 decision on a verified overlap: the match score, or 0.0 when
// the pair is not a duplicate at these thresholds.
// cjk: both texts are Chinese (MinHashSignature::cjk).
double VerifiedScore(const ShingleOverlap& overlap, bool cjk, double threshold,
                     double containment) noexcept;

class DedupIndex {
 public:
  // kInvalidArgument unless 0 < threshold <= 1, 0 < containment <= 1 and
  // the version is 1 or 2.
  [[nodiscard]] static Result<std::unique_ptr<DedupIndex>> Create(
      double threshold = kDefaultDedupThreshold,
      uint8_t version = kSignatureVersion,
      double containment = kDefaultContainmentThreshold);

  DedupIndex(const DedupIndex&) = delete;
  DedupIndex& operator=(const DedupIndex&) = delete;

  double threshold() const noexcept { return threshold_; }
  double containment() const noexcept { return containment_; }
  uint8_t version() const noexcept { return version_; }
  size_t size() const;
  bool Contains(int64_t key) const;

  // Stores the signature under `key`, replacing what the key held.
  [[nodiscard]] Status Add(int64_t key, std::string_view text);
  // kInvalidArgument if a signature is not of the index's version (nothing
  // is added then).
  [[nodiscard]] Status AddSignature(int64_t key, const MinHashSignature& signature);
  [[nodiscard]] Status AddSignatures(const std::vector<int64_t>& keys,
                                     const std::vector<MinHashSignature>& signatures);
  // Whether the key was present.
  bool Remove(int64_t key);

  // At most k stored keys that match (see above), best first (ties by
  // ascending key). An empty signature, or one of another version, matches
  // nothing.
  [[nodiscard]] Result<std::vector<DedupMatch>> Query(std::string_view text,
                                                      size_t k) const;
  std::vector<DedupMatch> QuerySignature(const MinHashSignature& signature,
                                         size_t k) const;
  // QuerySignature for each, on all cores.
  std::vector<std::vector<DedupMatch>> QuerySignatures(
      const std::vector<MinHashSignature>& signatures, size_t k) const;

 private:
  DedupIndex(double threshold, uint8_t version, double containment);

  // An open-addressing (linear probing) multimap from a 32-bit band tag to a
  // slot: 8 bytes per (signature, band). The tag alone fixes the home cell,
  // so the table can grow without the signatures; tag collisions only add
  // candidates that the similarity check then drops.
  struct Cell {
    uint32_t tag;
    uint32_t slot;  // kEmptySlot if unused
  };
  static constexpr uint32_t kEmptySlot = 0xFFFFFFFFu;

  size_t Home(uint32_t tag) const noexcept;
  // Does not insert when `cap` cells with this tag are already there.
  void InsertCell(uint32_t tag, uint32_t slot, size_t cap);
  void EraseCell(uint32_t tag, uint32_t slot);
  void GrowIfNeeded(size_t more_cells);
  void AddLocked(int64_t key, const MinHashSignature& signature);
  bool RemoveLocked(int64_t key);
  const uint32_t* SignatureAt(uint32_t slot) const noexcept {
    return signatures_.data() + static_cast<size_t>(slot) * kMinHashPermutations;
  }
  std::vector<DedupMatch> QueryLocked(const MinHashSignature& signature,
                                      size_t k) const;

  const double threshold_;
  const uint8_t version_;
  const double containment_;
  const size_t bands_;
  mutable std::shared_mutex mutex_;
  std::vector<uint32_t> signatures_;  // slot * kMinHashPermutations values
  std::vector<std::vector<uint32_t>> slot_shingles_;  // version 2: verify sets
  std::vector<uint32_t> slot_shingle_count_;
  std::vector<uint8_t> slot_cjk_;
  std::vector<int64_t> slot_keys_;
  std::vector<uint8_t> slot_in_bands_;  // 0 for free slots and empty signatures
  std::vector<uint32_t> free_slots_;
  std::unordered_map<int64_t, uint32_t> slot_of_key_;
  std::vector<Cell> cells_;  // size is a power of two, or 0
  size_t used_cells_ = 0;
  int cell_shift_ = 64;
};

}  // namespace tipline

#endif  // TIPLINE_DEDUP_INDEX_H_
