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

constexpr size_t kSketchWords = kSketchValues / 16;

void SketchOf(const uint32_t* values, uint64_t* sketch) {
  for (size_t w = 0; w < kSketchWords; ++w) {
    uint64_t word = 0;
    for (size_t i = 0; i < 16; ++i) word |= uint64_t{values[16 * w + i] & 0xF} << (4 * i);
    sketch[w] = word;
  }
}

// The Jaccard similarity estimated from two sketches: two values of 4 bits
// are equal when the values are (probability J) or by chance (1/16 of the
// rest), so J is about (equal share - 1/16) * 16/15 (b-bit MinHash, Li and
// Konig 2010).
double SketchEstimate(const uint64_t* a, const uint64_t* b) {
  uint64_t differing = 0;
  for (size_t w = 0; w < kSketchWords; ++w) {
    uint64_t x = a[w] ^ b[w];
    x |= x >> 1;
    x |= x >> 2;  // bit 0 of each 4-bit group: whether the group differs
    x &= 0x1111111111111111ULL;
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;  // per byte: 0 to 2
    differing += (x * 0x0101010101010101ULL) >> 56;  // their sum, at most 16
  }
  const double equal =
      static_cast<double>(kSketchValues - differing) / static_cast<double>(kSketchValues);
  return (equal - 1.0 / 16) * 16.0 / 15;
}

// Whether an estimated Jaccard similarity (margin included) may reach the
// Jaccard threshold, or the containment it implies, e (na + nb) / ((1 + e)
// smaller), the containment threshold, for texts of na and nb shingles.
// Without a division: it runs for every candidate.
inline bool MayReach(double estimate, double threshold, double containment, double na,
                     double nb, bool cjk) {
  const double smaller = std::min(na, nb);
  return estimate >= JaccardThreshold(threshold, static_cast<uint32_t>(smaller), cjk) ||
         (smaller >= kMinContainmentShingles &&
          estimate * (na + nb) >= containment * (1.0 + estimate) * smaller);
}

}  // namespace

double JaccardThreshold(double threshold, uint32_t smaller, bool cjk) noexcept {
  const double low = cjk ? kCjkShortScale : kShortScale;
  const double high = cjk ? kCjkLongScale : 1.0;
  constexpr double kLatinSpan = 1.0 / (kLongPairShingles - kShortPairShingles);
  constexpr double kCjkSpan = 1.0 / (kCjkLongPairShingles - kShortPairShingles);
  double f = (static_cast<double>(smaller) - kShortPairShingles) * (cjk ? kCjkSpan : kLatinSpan);
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
// (tipline/dedup_model.h; from kModelSureJaccard on, its acceptance without
// asking it), else the overlap's unless the texts are of DifferentSubstance.
double VerifiedScore(const ShingleOverlap& overlap, bool cjk, double threshold,
                     double containment, std::string_view text_a, const uint32_t* x,
                     size_t nx, uint32_t count_x, std::string_view text_b,
                     const uint32_t* y, size_t ny, uint32_t count_y) noexcept {
  if (HasDedupModel() && ModelRegion(overlap, cjk, threshold, containment)) {
    const bool sure = overlap.jaccard >= kModelSureJaccard &&
                      ModelApplies(text_a, nx, count_x, text_b, ny, count_y);
    PairFeatures features;
    if (sure || PairFeaturesOf(text_a, x, nx, count_x, text_b, y, ny, count_y, cjk,
                               &features, &overlap)) {
      if (!sure && !ModelMatches(features, cjk)) return 0.0;
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
  // Cache-line aligned, for SlotHead.
  if (memory == nullptr && posix_memalign(&memory, 64, bytes == 0 ? 64 : bytes) != 0) {
    memory = nullptr;
  }
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
  read(slot_heads_.data(), slot_heads_.size() * sizeof(SlotHead));
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
      slot_heads_.emplace_back();
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
    SlotHead& head = slot_heads_[slot];
    head.shingle_count = signature.shingle_count;
    head.cjk = signature.cjk;
    head.has_text = !signature.text.empty();
    SketchOf(signature.values.data(), head.sketch);
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
  const uint32_t count = version_ == 1 ? 0 : slot_heads_[slot].shingle_count;
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
    slot_heads_[slot] = SlotHead{};
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
  // Each cell of a band's cluster is written out and kept when its tag is
  // the band's, without a branch: in a shared vocabulary's crowded clusters
  // that branch was taken about half the time, at random.
  thread_local std::vector<uint32_t> candidates;
  if (candidates.size() < 256) candidates.resize(256);
  size_t found = 0;
  const size_t mask = cells_.size() - 1;
  for (size_t band = 0; band < bands; ++band) {
    if (band + kProbeAhead < bands) __builtin_prefetch(&cells_[homes[band + kProbeAhead]]);
    const uint32_t tag = tags[band];
    for (size_t i = homes[band]; cells_[i].slot != kEmptySlot; i = (i + 1) & mask) {
      if (found == candidates.size()) candidates.resize(2 * found);
      candidates[found] = cells_[i].slot;
      found += cells_[i].tag == tag;
    }
  }
  candidates.resize(found);
  if (candidates.empty()) return matches;
  // A candidate is found once per band it shares: each distinct one once.
  size_t bits = 6;
  while ((size_t{1} << bits) < 2 * candidates.size()) ++bits;
  thread_local std::vector<uint32_t> seen;  // slot + 1; 0 when empty
  seen.assign(size_t{1} << bits, 0);
  const size_t seen_mask = (size_t{1} << bits) - 1;
  const auto first_time = [&](uint32_t slot) {
    size_t i = static_cast<size_t>((slot * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
    while (seen[i] != 0) {
      if (seen[i] == slot + 1) return false;
      i = (i + 1) & seen_mask;
    }
    seen[i] = slot + 1;
    return true;
  };

  if (version_ == 1) {
    // equal / 128 >= threshold, decided in integers.
    const auto min_equal = static_cast<size_t>(
        std::ceil(threshold_ * kMinHashPermutations - 1e-9));
    for (const uint32_t slot : candidates) {
      if (!first_time(slot)) continue;
      const size_t equal = EqualValues(signature.values.data(), SignatureAt(slot));
      if (equal < min_equal) continue;
      matches.push_back(DedupMatch{
          slot_keys_[slot], static_cast<double>(equal) / kMinHashPermutations});
    }
  } else {
    // Each candidate is screened on its estimated Jaccard similarity: it
    // goes on to the verify step unless the estimate plus kVerifyMargin
    // reaches neither threshold and, where the verify model can apply (a
    // version-3 index, both texts with a matching form), the estimate plus
    // kRegionMargin neither bound of the model's region. The sketches'
    // estimate screens first, with kSketchSlack more (its 4-bit values
    // agree by chance too), so that only the candidates it keeps, at most
    // twice kMaxVerifiedCandidates, are read in full; at most
    // kMaxVerifiedCandidates go on to the verify step. Where there are more,
    // the highest estimates are kept (ties by slot): ranked by the bands
    // they shared, as before 2026-12, a near-duplicate sharing one band lost
    // its place to unrelated texts sharing two through a common phrase.
    uint64_t sketch[kSketchWords];
    SketchOf(signature.values.data(), sketch);
    const bool model_query = version_ == 3 && HasDedupModel() && !signature.text.empty();
    const double na = signature.shingle_count;
    const double region_threshold = RegionThreshold(threshold_);
    const double region_containment = RegionContainment(containment_);
    const auto may_match = [&](const SlotHead& head, double estimate) {
      const bool cjk = signature.cjk && head.cjk;
      const double nb = head.shingle_count;
      return MayReach(estimate + kVerifyMargin, threshold_, containment_, na, nb, cjk) ||
             (model_query && head.has_text &&
              MayReach(estimate + kRegionMargin, region_threshold, region_containment, na,
                       nb, cjk));
    };
    // The distinct candidates, their heads read kHeadsAhead ahead.
    size_t distinct = 0;
    for (const uint32_t slot : candidates) {
      if (first_time(slot)) candidates[distinct++] = slot;
    }
    candidates.resize(distinct);
    constexpr size_t kHeadsAhead = 12;
    for (size_t i = 0; i < std::min(kHeadsAhead, distinct); ++i) {
      __builtin_prefetch(&slot_heads_[candidates[i]]);
    }
    thread_local std::vector<std::pair<double, uint32_t>> kept;  // (sketch estimate, slot)
    kept.clear();
    for (size_t i = 0; i < distinct; ++i) {
      if (i + kHeadsAhead < distinct) {
        __builtin_prefetch(&slot_heads_[candidates[i + kHeadsAhead]]);
      }
      const uint32_t slot = candidates[i];
      const SlotHead& head = slot_heads_[slot];
      const double estimate = SketchEstimate(sketch, head.sketch);
      if (may_match(head, estimate + kSketchSlack)) kept.emplace_back(estimate, slot);
    }
    const auto higher = [](const std::pair<double, uint32_t>& a,
                           const std::pair<double, uint32_t>& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    };
    if (kept.size() > 2 * kMaxVerifiedCandidates) {
      std::nth_element(kept.begin(),
                       kept.begin() + static_cast<ptrdiff_t>(2 * kMaxVerifiedCandidates),
                       kept.end(), higher);
      kept.resize(2 * kMaxVerifiedCandidates);
    }
    for (const auto& [estimate, slot] : kept) {
      const auto* row = reinterpret_cast<const char*>(SignatureAt(slot));
      for (size_t line = 0; line < kMinHashPermutations * 4; line += 64) {
        __builtin_prefetch(row + line);
      }
    }
    thread_local std::vector<std::pair<double, uint32_t>> screened;  // (estimate, slot)
    screened.clear();
    for (const auto& [sketched, slot] : kept) {
      const double estimate =
          static_cast<double>(EqualValues(signature.values.data(), SignatureAt(slot))) /
          kMinHashPermutations;
      if (may_match(slot_heads_[slot], estimate)) screened.emplace_back(estimate, slot);
    }
    if (screened.size() > kMaxVerifiedCandidates) {
      std::nth_element(screened.begin(),
                       screened.begin() + static_cast<ptrdiff_t>(kMaxVerifiedCandidates),
                       screened.end(), higher);
      screened.resize(kMaxVerifiedCandidates);
    }
    // The verify step reads a candidate's SlotData, then its verify set:
    // the first for all at once, the second two candidates ahead.
    for (const auto& [estimate, slot] : screened) __builtin_prefetch(&slot_data_[slot]);
    constexpr size_t kSetsAhead = 2;
    for (size_t i = 0; i < std::min(kSetsAhead, screened.size()); ++i) {
      __builtin_prefetch(set_pool_.data() + slot_data_[screened[i].second].set_at);
    }
    for (size_t i = 0; i < screened.size(); ++i) {
      if (i + kSetsAhead < screened.size()) {
        const SlotData& ahead = slot_data_[screened[i + kSetsAhead].second];
        __builtin_prefetch(set_pool_.data() + ahead.set_at);
        __builtin_prefetch(set_pool_.data() + ahead.set_at + 16);
      }
      const uint32_t slot = screened[i].second;
      const SlotHead& head = slot_heads_[slot];
      const bool cjk = signature.cjk && head.cjk;
      const SlotData& data = slot_data_[slot];
      const uint32_t* stored = set_pool_.data() + data.set_at;
      const ShingleOverlap overlap =
          OverlapOfSets(signature.shingles.data(), signature.shingles.size(),
                        signature.shingle_count, stored, data.set_size, head.shingle_count);
      const double score =
          version_ == 3
              ? VerifiedScore(overlap, cjk, threshold_, containment_, signature.text,
                              signature.shingles.data(), signature.shingles.size(),
                              signature.shingle_count,
                              std::string_view(text_pool_.data() + data.text_at,
                                               data.text_size),
                              stored, data.set_size, head.shingle_count)
              : OverlapScore(overlap, cjk, threshold_, containment_);
      if (score > 0.0) matches.push_back(DedupMatch{slot_keys_[slot], score});
    }
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
