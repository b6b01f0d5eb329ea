// An in-memory near-duplicate index over MinHash signatures (tipline/minhash.h)
// with LSH banding. An index holds signatures of one version.
//
// Versions 2 and 3 (3 is the default): a query looks up its band keys (the
// 42 regular bands of 3 values, so candidates come down to a Jaccard
// similarity of about 0.3, and for a short version-3 text the 86 extra
// windows), drops candidates whose MinHash estimate cannot reach either
// threshold (see kVerifyMargin), then verifies the rest exactly
// (MatchScore): a candidate matches when the Jaccard similarity of the
// shingle sets reaches JaccardThreshold(threshold(), ...), or when the
// containment (overlap over the smaller set) reaches containment() and the
// smaller text has at least kMinContainmentShingles shingles (a truncated
// report, or one quoted inside a longer one); and, for version 3, when the
// two texts are not of DifferentSubstance (which also rejects two Chinese
// texts where a word, number or run of Han characters stands in the place of
// another). For two version-3 texts of up to kModelMaxChars code points the
// verify model (tipline/dedup_model.h) decides instead, within a region
// below those thresholds. Version 1: the candidates'
// estimated similarity must reach threshold(), as before version 2.
//
// Readers (Query, size) share a lock; writers (Add, Remove) take it
// exclusively.
#ifndef TIPLINE_DEDUP_INDEX_H_
#define TIPLINE_DEDUP_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tipline/minhash.h"
#include "tipline/status.h"

namespace tipline {

// The thresholds of versions 2 and 3, chosen on the development split of
// tests/bench/dedup_holdout.py (three seeds), dedup_quality.py's set and
// seed 1 of dedup_outside.py; the Chinese short-text scale was then raised
// from 0.22 after the held-out split and seeds 2-5 of dedup_outside.py
// showed its precision too close to 0.95, and fresh draws that no setting
// saw were run after that (README, "De-duplication quality").
//
// threshold is the Jaccard similarity two texts of kLongPairShingles
// shingles or more need. A short text has few shingles, and one typo costs a
// larger share of them, while two unrelated short texts rarely share many:
// the pair's threshold (JaccardThreshold) scales with the smaller text's
// shingle count, from kShortScale * threshold at kShortPairShingles or
// fewer up to threshold at kLongPairShingles. Chinese pairs (both texts
// MinHashSignature::cjk) scale from kCjkShortScale to kCjkLongScale at
// kCjkLongPairShingles: character n-grams of unrelated Chinese texts rarely
// overlap. At the default 0.46: 0.26 for short Latin pairs, 0.24 to 0.36
// for Chinese ones.
inline constexpr double kDefaultDedupThreshold = 0.46;
inline constexpr uint32_t kShortPairShingles = 25;
inline constexpr uint32_t kLongPairShingles = 70;
inline constexpr uint32_t kCjkLongPairShingles = 60;
inline constexpr double kShortScale = 13.0 / 23.0;     // 0.26 / 0.46
inline constexpr double kCjkShortScale = 12.0 / 23.0;  // 0.24 / 0.46
inline constexpr double kCjkLongScale = 18.0 / 23.0;   // 0.36 / 0.46
inline constexpr double kDefaultContainmentThreshold = 0.85;
inline constexpr uint32_t kMinContainmentShingles = 16;
// A candidate is verified unless its estimated Jaccard similarity (equal
// MinHash values) plus this margin (about four standard deviations at 128
// values) reaches neither threshold; where the verify model applies, unless
// the estimate plus kRegionMargin reaches neither bound of the model's
// region either. The region's lower bounds lie well below where the model
// accepts a pair, so its margin can be narrower: it decides how many
// unrelated texts of a shared vocabulary are verified exactly (README,
// "Query cost at scale").
inline constexpr double kVerifyMargin = 0.15;
inline constexpr double kRegionMargin = 0.08;
// The screen reads a candidate's head: the low byte of each of the first
// kHeadValues MinHash values, two cache lines rather than the eight of the
// values. Its estimate corrects for bytes that agree by chance; what those
// and the 6 values it lacks add to its error (about 0.006 and 2 %) is small
// next to the margins.
inline constexpr size_t kHeadValues = 122;
// Bounds on a query's work, whatever the stored texts: an LSH bucket (one
// band key) holds at most kMaxBucketSlots texts (a key that common, such as
// a shared greeting's, says little; later texts stay out of it but are found
// through their other bands), a text met in a crowded bucket (of
// kCrowdedBucketSlots texts or more) is a candidate only if it is met in
// another bucket too (in a shared vocabulary, most band hits are texts met
// once through a common key: at 1M report-like texts, 190 of 270 came
// from full buckets, and buckets of 8 or more brought half of the rest),
// and at most kMaxVerifiedCandidates candidates, those with the highest
// estimates, are verified (version 1 estimates every candidate and verifies
// none; its buckets have no bound). 32 rather than the 64 of before
// 2026-12: chosen by estimate, the candidates verified are the likeliest,
// and every benchmark set found the same pairs with 32; at worst (a
// vocabulary of 45 words) a query pays for half as many models.
inline constexpr size_t kMaxBucketSlots = 16;
inline constexpr size_t kCrowdedBucketSlots = 8;
inline constexpr size_t kMaxVerifiedCandidates = 32;
// Version 1's estimated-similarity threshold.
inline constexpr double kDefaultDedupThresholdV1 = 0.5;

// The Jaccard similarity a pair needs (see above); smaller is the smaller
// text's distinct shingle count.
double JaccardThreshold(double threshold, uint32_t smaller, bool cjk) noexcept;

// The verified decision on two signatures of versions 2 or 3: the Jaccard
// similarity if it reaches JaccardThreshold, else the containment if it
// reaches `containment` (texts of kMinContainmentShingles or more), and 0.0
// when neither does, when the texts are of DifferentSubstance, or when
// either signature is of version 1. Where the verify model applies (two
// version-3 signatures, tipline/dedup_model.h) it decides: 0.0 when it
// rejects the pair or the overlap is outside its region, else the score
// above, or the larger of the Jaccard similarity and the containment when
// neither threshold is reached. A pair of kModelSureJaccard or more is
// accepted so without asking it.
double MatchScore(const MinHashSignature& a, const MinHashSignature& b,
                  double threshold = kDefaultDedupThreshold,
                  double containment = kDefaultContainmentThreshold) noexcept;

struct DedupMatch {
  int64_t key;
  // Versions 2 and 3: MatchScore; version 1: the estimated Jaccard
  // similarity.
  double similarity;
  bool operator==(const DedupMatch& o) const noexcept {
    return key == o.key && similarity == o.similarity;
  }
};

class DedupIndex {
 public:
  // kInvalidArgument unless 0 < threshold <= 1, 0 < containment <= 1 and
  // the version is 1, 2 or 3.
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
  // A batch of at least a sixteenth of the index (a bulk load) ends by
  // reading the index's memory once (ReadMemoryOnce).
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

  // Memory the kernel is asked to back with huge pages where it can (Linux
  // transparent huge pages) when it is 2 MiB or more, for the tables a query
  // reads at random places: at 1M stored texts they hold hundreds of
  // megabytes, and with 4 KiB pages nearly each read missed the TLB as well
  // as the cache. Freed with std::free.
  static void* AllocateLarge(size_t bytes);
  template <class T>
  struct LargeAllocator {
    using value_type = T;
    LargeAllocator() = default;
    template <class U>
    LargeAllocator(const LargeAllocator<U>&) noexcept {}  // NOLINT
    T* allocate(size_t n) { return static_cast<T*>(AllocateLarge(n * sizeof(T))); }
    void deallocate(T* p, size_t) noexcept { std::free(p); }
    template <class U>
    bool operator==(const LargeAllocator<U>&) const noexcept { return true; }
    template <class U>
    bool operator!=(const LargeAllocator<U>&) const noexcept { return false; }
  };
  template <class T>
  using LargeVector = std::vector<T, LargeAllocator<T>>;

  // The buckets: an open-addressing (linear probing) map from a 32-bit band
  // tag to its bucket, 8 bytes per distinct tag. The tag alone fixes the
  // home cell, so the table can grow without the signatures; tag collisions
  // only add candidates that the similarity check then drops. A bucket of
  // one slot is held in its cell; a larger one in a Block, one cache line,
  // so that a query reads one cell and at most one line per band however
  // common the band key (with one cell per stored (text, band), as before
  // 2026-12, a query at 1M report-like texts walked about 290 cells).
  struct Cell {
    uint32_t tag;
    uint32_t ref;  // kEmptySlot if unused, a slot, or kBlockRef | a block
  };
  static constexpr uint32_t kEmptySlot = 0xFFFFFFFFu;
  static constexpr uint32_t kBlockRef = 0x80000000u;
  // Slots are below kBlockRef.
  static constexpr size_t kMaxSlots = kBlockRef - 1;
  struct alignas(64) Block {
    uint32_t slots[kMaxBucketSlots];  // kEmptySlot after the last
  };
  static_assert(sizeof(Block) == 64);

  // The cells, in AllocateLarge's memory: a query's probes land far apart.
  class CellTable {
   public:
    CellTable() = default;
    explicit CellTable(size_t size);
    ~CellTable();
    CellTable(const CellTable&) = delete;
    CellTable& operator=(const CellTable&) = delete;
    void swap(CellTable& other) noexcept {
      std::swap(cells_, other.cells_);
      std::swap(size_, other.size_);
    }
    size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    Cell& operator[](size_t i) noexcept { return cells_[i]; }
    const Cell& operator[](size_t i) const noexcept { return cells_[i]; }

   private:
    Cell* cells_ = nullptr;
    size_t size_ = 0;
  };

  size_t Home(uint32_t tag) const noexcept {
    return static_cast<size_t>((tag * 0x9E3779B97F4A7C15ULL) >> cell_shift_);
  }
  // The cell holding `tag`, or the empty cell that ends its probe chain.
  size_t FindCell(uint32_t tag) const noexcept;
  // Does not insert when the bucket already holds `cap` slots.
  void InsertCell(uint32_t tag, uint32_t slot, size_t cap);
  void EraseCell(uint32_t tag, uint32_t slot);
  void EraseCellAt(size_t i);
  uint32_t NewBlock();
  static size_t BlockSize(const Block& block) noexcept;
  void GrowIfNeeded(size_t more_cells);
  void AddLocked(int64_t key, const MinHashSignature& signature);
  // The cells' tags of a signature's values (at most kMaxLshBands, written
  // to tags; returns how many): version 1, from its band keys; versions 2
  // and 3, from the same windows of three values as the band keys (the
  // regular bands, and every window when `windows` is set), hashed with a
  // cheaper function than the keys' XXH64, since a tag never leaves the
  // index.
  size_t Tags(const uint32_t* values, uint32_t shingle_count, bool windows,
              uint32_t* tags) const;
  // The tags slot `slot` is stored under.
  size_t StoredTags(uint32_t slot, uint32_t* tags) const;
  bool RemoveLocked(int64_t key);
  const uint32_t* SignatureAt(uint32_t slot) const noexcept {
    return signatures_.data() + static_cast<size_t>(slot) * kMinHashPermutations;
  }
  std::vector<DedupMatch> QueryLocked(const MinHashSignature& signature,
                                      size_t k) const;

  const double threshold_;
  const uint8_t version_;
  const double containment_;
  mutable std::shared_mutex mutex_;
  LargeVector<uint32_t> signatures_;  // slot * kMinHashPermutations values
  // Versions 2 and 3: the verify sets and (version 3) the matching forms,
  // back to back in two pools rather than one heap block each, so that a
  // candidate's are read from huge pages too; a removed slot's stay behind
  // as garbage until the pool is compacted (CompactPools).
  struct SlotData {
    uint64_t set_at = 0;
    uint64_t text_at = 0;
    uint32_t set_size = 0;
    uint32_t text_size = 0;
  };
  LargeVector<SlotData> slot_data_;
  LargeVector<uint32_t> set_pool_;
  LargeVector<char> text_pool_;
  size_t set_garbage_ = 0;
  size_t text_garbage_ = 0;
  void CompactPools();
  // Reads one byte of every 4 KiB of the tables a query reads. On this
  // project's virtual machines the first read of a region of guest memory
  // after it was written can cost tens of microseconds or more (the host
  // maps it again: no page fault shows in the guest), paid by whichever query
  // reads there first; a freshly loaded index of 1M short texts put a few
  // hundred such reads into its first thousand queries. The pass costs
  // tens of milliseconds at 1M stored texts (about 3 GB), next to seconds
  // of loading.
  void ReadMemoryOnce() const;
  // Versions 2 and 3: what the screen before the verify step reads of a
  // candidate, in two cache lines (the full values are read only to remove
  // a slot's cells).
  struct alignas(128) SlotHead {
    uint32_t shingle_count = 0;
    uint8_t cjk = 0;
    uint8_t has_text = 0;  // a matching form is stored
    uint8_t low[kHeadValues] = {};
  };
  static_assert(sizeof(SlotHead) == 128);
  LargeVector<SlotHead> slot_heads_;
  LargeVector<int64_t> slot_keys_;
  LargeVector<uint8_t> slot_in_bands_;  // 0 for free slots and empty signatures
  std::vector<uint32_t> free_slots_;
  std::unordered_map<int64_t, uint32_t> slot_of_key_;
  CellTable cells_;  // size is a power of two, or 0
  size_t used_cells_ = 0;
  LargeVector<Block> blocks_;
  std::vector<uint32_t> free_blocks_;
  // Version 1 (no bound on a bucket): a bucket's next block, or kEmptySlot.
  std::vector<uint32_t> next_block_;
  int cell_shift_ = 64;
};

}  // namespace tipline

#endif  // TIPLINE_DEDUP_INDEX_H_
