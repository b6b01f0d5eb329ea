// An in-memory near-duplicate index over MinHash signatures (tipline/minhash.h)
// with LSH banding: a query looks up its kLshBands band keys, then ranks the
// candidates by their estimated similarity. Readers (Query, size) share a
// lock; writers (Add, Remove) take it exclusively.
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

inline constexpr double kDefaultDedupThreshold = 0.5;

struct DedupMatch {
  int64_t key;
  double similarity;  // estimated Jaccard similarity, in [threshold, 1]
  bool operator==(const DedupMatch& o) const noexcept {
    return key == o.key && similarity == o.similarity;
  }
};

class DedupIndex {
 public:
  // kInvalidArgument unless 0 < threshold <= 1.
  [[nodiscard]] static Result<std::unique_ptr<DedupIndex>> Create(
      double threshold = kDefaultDedupThreshold);

  DedupIndex(const DedupIndex&) = delete;
  DedupIndex& operator=(const DedupIndex&) = delete;

  double threshold() const noexcept { return threshold_; }
  size_t size() const;
  bool Contains(int64_t key) const;

  // Stores the signature under `key`, replacing what the key held.
  [[nodiscard]] Status Add(int64_t key, std::string_view text);
  void AddSignature(int64_t key, const MinHashSignature& signature);
  void AddSignatures(const std::vector<int64_t>& keys,
                     const std::vector<MinHashSignature>& signatures);
  // Whether the key was present.
  bool Remove(int64_t key);

  // At most k stored keys whose estimated similarity is >= threshold(), best
  // first (ties by ascending key). An empty signature matches nothing.
  [[nodiscard]] Result<std::vector<DedupMatch>> Query(std::string_view text,
                                                      size_t k) const;
  std::vector<DedupMatch> QuerySignature(const MinHashSignature& signature,
                                         size_t k) const;
  // QuerySignature for each, on all cores.
  std::vector<std::vector<DedupMatch>> QuerySignatures(
      const std::vector<MinHashSignature>& signatures, size_t k) const;

 private:
  explicit DedupIndex(double threshold);

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
  void InsertCell(uint32_t tag, uint32_t slot);
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
  mutable std::shared_mutex mutex_;
  std::vector<uint32_t> signatures_;  // slot * kMinHashPermutations values
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
