#include "tipline/dedup_index.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <sys/mman.h>
#include <cstdint>
#include <utility>
#include <mutex>

#include "internal/parallel.h"
#include "tipline/dedup_model.h"

namespace tipline {
namespace {

inline uint32_t TagOf(int64_t band_key) {
  const auto key = static_cast<uint64_t>(band_key);
  return static_cast<uint32_t>(key ^ (key >> 32));
}

// The tag of the window of three values starting at `start` (cyclically):
// multiply-xorshift, the same bits everywhere. The values are MinHash
// minima, already uniform, so two rounds spread them over the tag.
inline uint32_t WindowTag(uint32_t start, uint32_t v0, uint32_t v1, uint32_t v2) {
  uint64_t x = ((uint64_t{v0} | uint64_t{v1} << 32) * 0x9E3779B97F4A7C15ULL) ^
               ((uint64_t{v2} | uint64_t{start} << 32) * 0xC2B2AE3D27D4EB4FULL);
  x ^= x >> 29;
  x *= 0xD6E8FEB86659FD93ULL;
  return static_cast<uint32_t>(x >> 32);
}

inline size_t EqualValues(const uint32_t* a, const uint32_t* b) {
  size_t equal = 0;
  for (size_t i = 0; i < kMinHashPermutations; ++i) equal += a[i] == b[i];
  return equal;
}

}  // namespace

double JaccardThreshold(double threshold, uint32_t smaller, bool cjk) noexcept {
  const uint32_t long_pair = cjk ? kCjkLongPairShingles : kLongPairShingles;
  const double low = cjk ? kCjkShortScale : kShortScale;
  const double high = cjk ? kCjkLongScale : 1.0;
  double f = (static_cast<double>(smaller) - kShortPairShingles) /
             static_cast<double>(long_pair - kShortPairShingles);
  f = f < 0.0 ? 0.0 : f > 1.0 ? 1.0 : f;
  return threshold * (low + (high - low) * f);
}

namespace {

// The decision on an overlap, before DifferentSubstance.
double OverlapScore(const ShingleOverlap& overlap, bool cjk, double threshold,
                    double containment) noexcept {
  if (overlap.jaccard >= JaccardThreshold(threshold, overlap.smaller, cjk) - 1e-12) {
    return overlap.jaccard;
  }
  if (overlap.smaller >= kMinContainmentShingles &&
      overlap.containment >= containment - 1e-12) {
    return overlap.containment;
  }
  return 0.0;
}

// The decision on a version-3 pair: the model's where it applies
// (tipline/dedup_model.h), else the overlap's unless the texts are of
// DifferentSubstance.
double VerifiedScore(const ShingleOverlap& overlap, bool cjk, double threshold,
                     double containment, std::string_view text_a, const uint32_t* x,
                     size_t nx, uint32_t count_x, std::string_view text_b,
                     const uint32_t* y, size_t ny, uint32_t count_y) noexcept {
  if (HasDedupModel() && ModelRegion(overlap, cjk, threshold, containment)) {
    PairFeatures features;
    if (PairFeaturesOf(text_a, x, nx, count_x, text_b, y, ny, count_y, cjk, &features,
                       &overlap)) {
      if (!ModelMatches(features, cjk)) return 0.0;
      const double score = OverlapScore(overlap, cjk, threshold, containment);
      return score > 0.0 ? score : std::max(overlap.jaccard, overlap.containment);
    }
  }
  const double score = OverlapScore(overlap, cjk, threshold, containment);
  return score > 0.0 && DifferentSubstanceOf(text_a, x, nx, count_x, text_b, y, ny, count_y)
             ? 0.0
             : score;
}

}  // namespace

double MatchScore(const MinHashSignature& a, const MinHashSignature& b,
                  double threshold, double containment) noexcept {
  if (a.version == 1 || b.version == 1 || !ComparableVersions(a.version, b.version)) {
    return 0.0;
  }
  const ShingleOverlap overlap = VerifyOverlap(a, b);
  const bool cjk = a.cjk && b.cjk;
  if (a.version == 3 && b.version == 3) {
    return VerifiedScore(overlap, cjk, threshold, containment, a.text, a.shingles.data(),
                         a.shingles.size(), a.shingle_count, b.text, b.shingles.data(),
                         b.shingles.size(), b.shingle_count);
  }
  return OverlapScore(overlap, cjk, threshold, containment);
}

void* DedupIndex::AllocateLarge(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  void* memory = nullptr;
  if (bytes >= kHugePage) {
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    if (posix_memalign(&memory, kHugePage, rounded) != 0) memory = nullptr;
#ifdef MADV_HUGEPAGE
    if (memory != nullptr) madvise(memory, rounded, MADV_HUGEPAGE);
#endif
  }
  if (memory == nullptr) memory = std::malloc(bytes == 0 ? 1 : bytes);
  if (memory == nullptr) throw std::bad_alloc();  // as std::vector would
  return memory;
}

DedupIndex::CellTable::CellTable(size_t size) : size_(size) {
  cells_ = static_cast<Cell*>(AllocateLarge(size * sizeof(Cell)));
  std::fill(cells_, cells_ + size, Cell{0, kEmptySlot});
}

DedupIndex::CellTable::~CellTable() { std::free(cells_); }

Result<std::unique_ptr<DedupIndex>> DedupIndex::Create(double threshold,
                                                       uint8_t version,
                                                       double containment) {
  if (!(threshold > 0.0 && threshold <= 1.0)) {
    return InvalidArgumentError("the similarity threshold must be in (0, 1]");
  }
  if (!(containment > 0.0 && containment <= 1.0)) {
    return InvalidArgumentError("the containment threshold must be in (0, 1]");
  }
  if (version < 1 || version > 3) {
    return InvalidArgumentError("unsupported signature version " +
                                std::to_string(version));
  }
  return std::unique_ptr<DedupIndex>(new DedupIndex(threshold, version, containment));
}

DedupIndex::DedupIndex(double threshold, uint8_t version, double containment)
    : threshold_(threshold),
      version_(version),
      containment_(containment) {}

size_t DedupIndex::size() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return slot_of_key_.size();
}

bool DedupIndex::Contains(int64_t key) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return slot_of_key_.count(key) != 0;
}

void DedupIndex::InsertCell(uint32_t tag, uint32_t slot, size_t cap) {
  const size_t mask = cells_.size() - 1;
  size_t i = Home(tag);
  size_t same = 0;
  while (cells_[i].slot != kEmptySlot) {
    same += cells_[i].tag == tag;
    i = (i + 1) & mask;
  }
  if (same >= cap) return;  // a full bucket: the slot stays out of it
  cells_[i] = Cell{tag, slot};
  ++used_cells_;
}

void DedupIndex::EraseCell(uint32_t tag, uint32_t slot) {
  const size_t mask = cells_.size() - 1;
  size_t i = Home(tag);
  while (cells_[i].slot != kEmptySlot &&
         !(cells_[i].tag == tag && cells_[i].slot == slot)) {
    i = (i + 1) & mask;
  }
  if (cells_[i].slot == kEmptySlot) return;
  // Backward-shift deletion keeps every probe chain unbroken (no tombstones).
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (cells_[j].slot == kEmptySlot) break;
    const size_t home = Home(cells_[j].tag);
    const bool stays = (j > i) ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      cells_[i] = cells_[j];
      i = j;
    }
  }
  cells_[i].slot = kEmptySlot;
  --used_cells_;
}

void DedupIndex::GrowIfNeeded(size_t more_cells) {
  const size_t needed = used_cells_ + more_cells;
  if (needed * 2 <= cells_.size()) return;  // load factor stays <= 1/2
  size_t size = 1024;
  int bits = 10;
  while (size < needed * 2) {
    size *= 2;
    ++bits;
  }
  CellTable old(size);
  old.swap(cells_);
  cell_shift_ = 64 - bits;
  used_cells_ = 0;
  for (size_t i = 0; i < old.size(); ++i) {
    if (old[i].slot != kEmptySlot) InsertCell(old[i].tag, old[i].slot, SIZE_MAX);
  }
}

Status DedupIndex::Add(int64_t key, std::string_view text) {
  Result<MinHashSignature> signature = ComputeSignature(text, version_);
  if (!signature.ok()) return signature.status();
  return AddSignature(key, signature.value());
}

Status DedupIndex::AddSignature(int64_t key, const MinHashSignature& signature) {
  if (signature.version != version_) {
    return InvalidArgumentError("a version " + std::to_string(signature.version) +
                                " signature in a version " +
                                std::to_string(version_) + " index");
  }
  std::unique_lock<std::shared_mutex> lock(mutex_);
  AddLocked(key, signature);
  return Status::Ok();
}

Status DedupIndex::AddSignatures(const std::vector<int64_t>& keys,
                                 const std::vector<MinHashSignature>& signatures) {
  const size_t n = std::min(keys.size(), signatures.size());
  for (size_t i = 0; i < n; ++i) {
    if (signatures[i].version != version_) {
      return InvalidArgumentError("signature " + std::to_string(i) +
                                  " is not of the index's version");
    }
  }
  std::unique_lock<std::shared_mutex> lock(mutex_);
  GrowIfNeeded(n * LshBands(version_));
  for (size_t i = 0; i < n; ++i) AddLocked(keys[i], signatures[i]);
  if (n > 0 && n * 16 >= slot_of_key_.size()) ReadMemoryOnce();
  return Status::Ok();
}

void DedupIndex::ReadMemoryOnce() const {
  constexpr size_t kPage = 4096;
  unsigned sum = 0;
  const auto read = [&sum](const void* data, size_t bytes) {
    const auto* p = static_cast<const volatile unsigned char*>(data);
    for (size_t i = 0; i < bytes; i += kPage) sum += p[i];
  };
  if (!cells_.empty()) read(&cells_[0], cells_.size() * sizeof(Cell));
  read(signatures_.data(), signatures_.size() * sizeof(uint32_t));
  read(slot_data_.data(), slot_data_.size() * sizeof(SlotData));
  read(set_pool_.data(), set_pool_.size() * sizeof(uint32_t));
  read(text_pool_.data(), text_pool_.size());
  read(slot_shingle_count_.data(), slot_shingle_count_.size() * sizeof(uint32_t));
  read(slot_cjk_.data(), slot_cjk_.size());
  read(slot_keys_.data(), slot_keys_.size() * sizeof(int64_t));
  (void)sum;
}

void DedupIndex::AddLocked(int64_t key, const MinHashSignature& signature) {
  RemoveLocked(key);
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slot_keys_.size());
    slot_keys_.push_back(0);
    slot_in_bands_.push_back(0);
    signatures_.resize(signatures_.size() + kMinHashPermutations);
    if (version_ != 1) {
      slot_data_.emplace_back();
      slot_shingle_count_.push_back(0);
      slot_cjk_.push_back(0);
    }
  }
  if (version_ != 1) {
    CompactPools();
    SlotData& data = slot_data_[slot];
    data.set_at = set_pool_.size();
    data.set_size = static_cast<uint32_t>(signature.shingles.size());
    set_pool_.insert(set_pool_.end(), signature.shingles.begin(), signature.shingles.end());
    data.text_at = text_pool_.size();
    data.text_size = static_cast<uint32_t>(signature.text.size());
    text_pool_.insert(text_pool_.end(), signature.text.begin(), signature.text.end());
    slot_shingle_count_[slot] = signature.shingle_count;
    slot_cjk_[slot] = signature.cjk;
  }
  std::copy(signature.values.begin(), signature.values.end(),
            signatures_.begin() + static_cast<ptrdiff_t>(slot) * kMinHashPermutations);
  slot_keys_[slot] = key;
  slot_of_key_[key] = slot;
  const bool banded = !signature.empty();
  slot_in_bands_[slot] = banded;
  if (!banded) return;
  uint32_t tags[kMaxLshBands];
  const size_t n = StoredTags(slot, tags);
  GrowIfNeeded(n);
  const size_t cap = version_ == 1 ? SIZE_MAX : kMaxBucketSlots;
  for (size_t i = 0; i < n; ++i) InsertCell(tags[i], slot, cap);
}

size_t DedupIndex::Tags(const uint32_t* values, uint32_t shingle_count, bool windows,
                        uint32_t* tags) const {
  if (version_ == 1) {
    MinHashSignature signature;
    signature.version = version_;
    std::copy(values, values + kMinHashPermutations, signature.values.begin());
    for (size_t band = 0; band < kLshBands; ++band) {
      tags[band] = TagOf(BandKey(signature, band));
    }
    return kLshBands;
  }
  (void)shingle_count;
  if (windows) {
    // Every window: the regular bands start at multiples of 3 below 126,
    // the extra windows everywhere else (minhash.h).
    for (uint32_t w = 0; w < kMinHashPermutations; ++w) {
      tags[w] = WindowTag(w, values[w], values[(w + 1) % kMinHashPermutations],
                          values[(w + 2) % kMinHashPermutations]);
    }
    return kMinHashPermutations;
  }
  for (uint32_t band = 0; band < kLshBandsV2; ++band) {
    const uint32_t w = band * kLshRowsV2;
    tags[band] = WindowTag(w, values[w], values[w + 1], values[w + 2]);
  }
  return kLshBandsV2;
}

size_t DedupIndex::StoredTags(uint32_t slot, uint32_t* tags) const {
  const uint32_t count = version_ == 1 ? 0 : slot_shingle_count_[slot];
  return Tags(SignatureAt(slot), count,
              HasExtraWindows(version_, count), tags);
}

bool DedupIndex::Remove(int64_t key) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  return RemoveLocked(key);
}

bool DedupIndex::RemoveLocked(int64_t key) {
  const auto found = slot_of_key_.find(key);
  if (found == slot_of_key_.end()) return false;
  const uint32_t slot = found->second;
  slot_of_key_.erase(found);
  if (slot_in_bands_[slot]) {
    uint32_t tags[kMaxLshBands];
    const size_t n = StoredTags(slot, tags);
    for (size_t i = 0; i < n; ++i) EraseCell(tags[i], slot);
  }
  if (version_ != 1) {
    set_garbage_ += slot_data_[slot].set_size;
    text_garbage_ += slot_data_[slot].text_size;
    slot_data_[slot] = SlotData{};
    slot_shingle_count_[slot] = 0;
  }
  slot_in_bands_[slot] = 0;
  free_slots_.push_back(slot);
  return true;
}

void DedupIndex::CompactPools() {
  // Only once the garbage is half of a pool (and more than a few pages):
  // the copies then cost a constant share per added text.
  constexpr size_t kMinGarbage = size_t{1} << 18;
  const bool sets = set_garbage_ >= kMinGarbage && 2 * set_garbage_ >= set_pool_.size();
  const bool texts =
      text_garbage_ >= kMinGarbage && 2 * text_garbage_ >= text_pool_.size();
  if (!sets && !texts) return;
  LargeVector<uint32_t> set_pool;
  LargeVector<char> text_pool;
  if (sets) set_pool.reserve(set_pool_.size() - set_garbage_);
  if (texts) text_pool.reserve(text_pool_.size() - text_garbage_);
  for (SlotData& data : slot_data_) {
    if (sets) {
      const auto begin = set_pool_.begin() + static_cast<ptrdiff_t>(data.set_at);
      data.set_at = set_pool.size();
      set_pool.insert(set_pool.end(), begin, begin + data.set_size);
    }
    if (texts) {
      const auto begin = text_pool_.begin() + static_cast<ptrdiff_t>(data.text_at);
      data.text_at = text_pool.size();
      text_pool.insert(text_pool.end(), begin, begin + data.text_size);
    }
  }
  if (sets) {
    set_pool_.swap(set_pool);
    set_garbage_ = 0;
  }
  if (texts) {
    text_pool_.swap(text_pool);
    text_garbage_ = 0;
  }
}

Result<std::vector<DedupMatch>> DedupIndex::Query(std::string_view text,
                                                  size_t k) const {
  Result<MinHashSignature> signature = ComputeSignature(text, version_);
  if (!signature.ok()) return signature.status();
  return QuerySignature(signature.value(), k);
}

std::vector<DedupMatch> DedupIndex::QuerySignature(
    const MinHashSignature& signature, size_t k) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return QueryLocked(signature, k);
}

std::vector<std::vector<DedupMatch>> DedupIndex::QuerySignatures(
    const std::vector<MinHashSignature>& signatures, size_t k) const {
  std::vector<std::vector<DedupMatch>> results(signatures.size());
  std::shared_lock<std::shared_mutex> lock(mutex_);
  internal::ParallelFor(signatures.size(), 256, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      results[i] = QueryLocked(signatures[i], k);
    }
  });
  return results;
}

std::vector<DedupMatch> DedupIndex::QueryLocked(
    const MinHashSignature& signature, size_t k) const {
  std::vector<DedupMatch> matches;
  if (k == 0 || cells_.empty() || signature.empty() ||
      signature.version != version_) {
    return matches;
  }

  uint32_t tags[kMaxLshBands];
  size_t homes[kMaxLshBands];
  const size_t bands =
      Tags(signature.values.data(), signature.shingle_count,
           HasExtraWindows(version_, signature.shingle_count), tags);
  // The home cells are fetched kProbeAhead bands ahead of the band being
  // read rather than all at once: a short text's 128 probes would otherwise
  // queue behind the core's few outstanding misses (and their page walks)
  // before the first band is read (on this machine the probe phase of a
  // short query took 15-25 % longer that way).
  constexpr size_t kProbeAhead = 16;
  for (size_t band = 0; band < bands; ++band) {
    homes[band] = Home(tags[band]);
    if (band < kProbeAhead) __builtin_prefetch(&cells_[homes[band]]);
  }
  thread_local std::vector<uint32_t> candidates;
  candidates.clear();
  const size_t mask = cells_.size() - 1;
  uint32_t last = kEmptySlot;
  for (size_t band = 0; band < bands; ++band) {
    if (band + kProbeAhead < bands) __builtin_prefetch(&cells_[homes[band + kProbeAhead]]);
    for (size_t i = homes[band]; cells_[i].slot != kEmptySlot; i = (i + 1) & mask) {
      if (cells_[i].tag != tags[band]) continue;
      const uint32_t slot = cells_[i].slot;
      candidates.push_back(slot);
      if (slot != last && version_ != 1) {
        // What the verify step reads of a candidate, fetched while the
        // other bands are probed (a near-duplicate is usually found in the
        // first few).
        const auto* row = reinterpret_cast<const char*>(SignatureAt(slot));
        for (size_t line = 0; line < kMinHashPermutations * 4; line += 64) {
          __builtin_prefetch(row + line);
        }
        __builtin_prefetch(&slot_shingle_count_[slot]);
        __builtin_prefetch(&slot_cjk_[slot]);
        __builtin_prefetch(&slot_data_[slot]);
        last = slot;
      }
    }
  }
  if (candidates.empty()) return matches;
  if (version_ == 1) {
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()),
                     candidates.end());
  } else {
    // At most kMaxVerifiedCandidates, those sharing the most bands (ties by
    // slot), go on to the estimate and the verify step. The bands shared
    // are counted in a small open-addressing table (linear time: a query
    // can gather a few thousand band hits from full buckets).
    size_t bits = 6;
    while ((size_t{1} << bits) < 2 * candidates.size()) ++bits;
    thread_local std::vector<uint32_t> table_slot;  // slot + 1; 0 when empty
    thread_local std::vector<uint32_t> table_hits;
    thread_local std::vector<std::pair<uint32_t, uint32_t>> hits;  // (shared, slot)
    table_slot.assign(size_t{1} << bits, 0);
    table_hits.resize(size_t{1} << bits);
    hits.clear();
    const size_t table_mask = (size_t{1} << bits) - 1;
    for (const uint32_t slot : candidates) {
      size_t i = static_cast<size_t>((slot * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
      while (table_slot[i] != 0 && table_slot[i] != slot + 1) i = (i + 1) & table_mask;
      if (table_slot[i] == 0) {
        table_slot[i] = slot + 1;
        table_hits[i] = 0;
      }
      ++table_hits[i];
    }
    for (size_t i = 0; i <= table_mask; ++i) {
      if (table_slot[i] != 0) hits.emplace_back(table_hits[i], table_slot[i] - 1);
    }
    const auto more = [](const std::pair<uint32_t, uint32_t>& a,
                         const std::pair<uint32_t, uint32_t>& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    };
    if (hits.size() > kMaxVerifiedCandidates) {
      std::nth_element(hits.begin(),
                       hits.begin() + static_cast<ptrdiff_t>(kMaxVerifiedCandidates),
                       hits.end(), more);
      hits.resize(kMaxVerifiedCandidates);
    }
    std::sort(hits.begin(), hits.end(), more);
    candidates.clear();
    for (const auto& hit : hits) candidates.push_back(hit.second);
  }

  if (version_ != 1) {
    for (const uint32_t slot : candidates) {
      __builtin_prefetch(set_pool_.data() + slot_data_[slot].set_at);
    }
  }
  // equal / 128 >= threshold (version 1), decided in integers.
  const auto min_equal = static_cast<size_t>(
      std::ceil(threshold_ * kMinHashPermutations - 1e-9));
  for (const uint32_t slot : candidates) {
    const size_t equal = EqualValues(signature.values.data(), SignatureAt(slot));
    if (version_ == 1) {
      if (equal < min_equal) continue;
      matches.push_back(DedupMatch{
          slot_keys_[slot], static_cast<double>(equal) / kMinHashPermutations});
      continue;
    }
    // Verify unless even the MinHash estimate plus kVerifyMargin (about four
    // standard deviations) reaches neither threshold; the containment is
    // estimated from the estimate and the two texts' shingle counts.
    const double estimate =
        static_cast<double>(equal) / kMinHashPermutations + kVerifyMargin;
    const bool cjk = signature.cjk && slot_cjk_[slot];
    const uint32_t count = slot_shingle_count_[slot];
    const double na = signature.shingle_count, nb = count;
    const double smaller = std::min(na, nb);
    // The containment is estimated from the estimate and the two texts'
    // shingle counts. Where the verify model can apply (a version-3 index,
    // both texts with a matching form), down to the model's region.
    const bool model = version_ == 3 && HasDedupModel() && !signature.text.empty() &&
                       slot_data_[slot].text_size != 0;
    const bool may_match =
        estimate >= JaccardThreshold(model ? RegionThreshold(threshold_) : threshold_,
                                     std::min(signature.shingle_count, count), cjk) ||
        (smaller >= kMinContainmentShingles &&
         estimate * (na + nb) / ((1.0 + estimate) * smaller) >=
             (model ? RegionContainment(containment_) : containment_));
    if (!may_match) continue;
    const SlotData& data = slot_data_[slot];
    const uint32_t* stored = set_pool_.data() + data.set_at;
    const ShingleOverlap overlap =
        OverlapOfSets(signature.shingles.data(), signature.shingles.size(),
                      signature.shingle_count, stored, data.set_size, count);
    const double score =
        version_ == 3
            ? VerifiedScore(overlap, cjk, threshold_, containment_, signature.text,
                            signature.shingles.data(), signature.shingles.size(),
                            signature.shingle_count,
                            std::string_view(text_pool_.data() + data.text_at,
                                             data.text_size),
                            stored, data.set_size, count)
            : OverlapScore(overlap, cjk, threshold_, containment_);
    if (score > 0.0) matches.push_back(DedupMatch{slot_keys_[slot], score});
  }
  const auto better = [](const DedupMatch& a, const DedupMatch& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity
                                        : a.key < b.key;
  };
  if (matches.size() > k) {
    std::partial_sort(matches.begin(), matches.begin() + static_cast<ptrdiff_t>(k),
                      matches.end(), better);
    matches.resize(k);
  } else {
    std::sort(matches.begin(), matches.end(), better);
  }
  return matches;
}

}  // namespace tipline
