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

constexpr char kIndexFull[] = "a near-duplicate index holds at most 2^31 - 1 signatures";

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

// The low byte of each of the first kHeadValues MinHash values.
void LowBytesOf(const uint32_t* values, uint8_t* bytes) {
  for (size_t i = 0; i < kHeadValues; ++i) bytes[i] = static_cast<uint8_t>(values[i]);
}

// The Jaccard similarity estimated from two heads' low bytes: two bytes are
// equal when the values are (probability J) or by chance (1/256 of the
// rest), so J is about (equal share - 1/256) * 256/255 (b-bit MinHash, Li
// and Konig 2010).
double LowBytesEstimate(const uint8_t* a, const uint8_t* b) {
  size_t equal = 0;
  for (size_t i = 0; i < kHeadValues; ++i) equal += a[i] == b[i];
  const double share = static_cast<double>(equal) / kHeadValues;
  return (share - 1.0 / 256) * 256.0 / 255;
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
  // Aligned as SlotHead is.
  if (memory == nullptr && posix_memalign(&memory, 128, bytes == 0 ? 128 : bytes) != 0) {
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

size_t DedupIndex::FindCell(uint32_t tag) const noexcept {
  const size_t mask = cells_.size() - 1;
  size_t i = Home(tag);
  while (cells_[i].ref != kEmptySlot && cells_[i].tag != tag) i = (i + 1) & mask;
  return i;
}

size_t DedupIndex::BlockSize(const Block& block) noexcept {
  size_t n = 0;
  while (n < kMaxBucketSlots && block.slots[n] != kEmptySlot) ++n;
  return n;
}

uint32_t DedupIndex::NewBlock() {
  uint32_t b;
  if (!free_blocks_.empty()) {
    b = free_blocks_.back();
    free_blocks_.pop_back();
  } else {
    // A block's number must leave kBlockRef's bit free: 2^31 blocks would
    // be 128 GiB, out of memory as any other allocation.
    if (blocks_.size() >= kBlockRef) throw std::bad_alloc();
    b = static_cast<uint32_t>(blocks_.size());
    blocks_.emplace_back();
    if (version_ == 1) next_block_.push_back(kEmptySlot);
  }
  std::fill(std::begin(blocks_[b].slots), std::end(blocks_[b].slots), kEmptySlot);
  if (version_ == 1) next_block_[b] = kEmptySlot;
  return b;
}

void DedupIndex::InsertCell(uint32_t tag, uint32_t slot, size_t cap) {
  Cell& cell = cells_[FindCell(tag)];
  if (cell.ref == kEmptySlot) {
    cell = Cell{tag, slot};
    ++used_cells_;
    return;
  }
  if ((cell.ref & kBlockRef) == 0) {
    const uint32_t b = NewBlock();
    blocks_[b].slots[0] = cell.ref;
    blocks_[b].slots[1] = slot;
    cell.ref = kBlockRef | b;
    return;
  }
  size_t held = 0;
  for (uint32_t b = cell.ref & ~kBlockRef;;) {
    const size_t n = BlockSize(blocks_[b]);
    held += n;
    if (held >= cap) return;  // a full bucket: the slot stays out of it
    if (n < kMaxBucketSlots) {
      blocks_[b].slots[n] = slot;
      return;
    }
    if (next_block_[b] == kEmptySlot) {  // version 1 only: cap is unbounded
      const uint32_t next = NewBlock();
      next_block_[b] = next;
      blocks_[next].slots[0] = slot;
      return;
    }
    b = next_block_[b];
  }
}

void DedupIndex::EraseCell(uint32_t tag, uint32_t slot) {
  const size_t i = FindCell(tag);
  Cell& cell = cells_[i];
  if (cell.ref == kEmptySlot) return;
  if ((cell.ref & kBlockRef) == 0) {
    if (cell.ref == slot) EraseCellAt(i);
    return;
  }
  // The slot's place, and the bucket's last block (version 1 chains them).
  const uint32_t first = cell.ref & ~kBlockRef;
  uint32_t at_block = kEmptySlot, last = first, before_last = kEmptySlot;
  size_t at = 0;
  for (uint32_t b = first;;) {
    for (size_t k = 0, n = BlockSize(blocks_[b]); k < n; ++k) {
      if (blocks_[b].slots[k] == slot) {
        at_block = b;
        at = k;
      }
    }
    last = b;
    if (version_ != 1 || next_block_[b] == kEmptySlot) break;
    before_last = b;
    b = next_block_[b];
  }
  if (at_block == kEmptySlot) return;  // the bucket was full when it came
  // The bucket's last slot takes its place.
  const size_t n = BlockSize(blocks_[last]);
  blocks_[at_block].slots[at] = blocks_[last].slots[n - 1];
  blocks_[last].slots[n - 1] = kEmptySlot;
  if (n == 1 && last != first) {
    next_block_[before_last] = kEmptySlot;
    free_blocks_.push_back(last);
  }
  // A bucket of one slot goes back into its cell.
  if (BlockSize(blocks_[first]) == 1 && (version_ != 1 || next_block_[first] == kEmptySlot)) {
    cell.ref = blocks_[first].slots[0];
    free_blocks_.push_back(first);
  }
}

void DedupIndex::EraseCellAt(size_t i) {
  // Backward-shift deletion keeps every probe chain unbroken (no tombstones).
  const size_t mask = cells_.size() - 1;
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (cells_[j].ref == kEmptySlot) break;
    const size_t home = Home(cells_[j].tag);
    const bool stays = (j > i) ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      cells_[i] = cells_[j];
      i = j;
    }
  }
  cells_[i].ref = kEmptySlot;
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
  // Each tag is in one cell: FindCell finds the empty cell it goes to.
  for (size_t i = 0; i < old.size(); ++i) {
    if (old[i].ref != kEmptySlot) cells_[FindCell(old[i].tag)] = old[i];
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
  if (slot_of_key_.size() >= kMaxSlots) return FailedPreconditionError(kIndexFull);
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
  if (n > kMaxSlots - slot_of_key_.size()) return FailedPreconditionError(kIndexFull);
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
  read(blocks_.data(), blocks_.size() * sizeof(Block));
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
    LowBytesOf(signature.values.data(), head.low);
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
  // The slots of a band's bucket: its cell's, or its block's (read once the
  // cells of every band are, so that the blocks are fetched side by side).
  // The texts of a crowded bucket (kCrowdedBucketSlots or more, versions 2
  // and 3) are set apart in `crowded`.
  thread_local std::vector<uint32_t> candidates, crowded, blocks;
  candidates.clear();
  crowded.clear();
  blocks.clear();
  for (size_t band = 0; band < bands; ++band) {
    if (band + kProbeAhead < bands) __builtin_prefetch(&cells_[homes[band + kProbeAhead]]);
    const uint32_t ref = cells_[FindCell(tags[band])].ref;
    if (ref == kEmptySlot) continue;
    if ((ref & kBlockRef) == 0) {
      candidates.push_back(ref);
    } else {
      __builtin_prefetch(&blocks_[ref & ~kBlockRef]);
      blocks.push_back(ref & ~kBlockRef);
    }
  }
  for (uint32_t b : blocks) {
    const size_t n = BlockSize(blocks_[b]);
    auto& into = version_ != 1 && n >= kCrowdedBucketSlots ? crowded : candidates;
    into.insert(into.end(), blocks_[b].slots, blocks_[b].slots + n);
    // Version 1's further blocks.
    while (version_ == 1 && next_block_[b] != kEmptySlot) {
      b = next_block_[b];
      const Block& next = blocks_[b];
      candidates.insert(candidates.end(), next.slots, next.slots + BlockSize(next));
    }
  }
  // The candidates: every text of a bucket that is not crowded, and a text
  // of crowded buckets only where it is in two of them (exact copies and
  // close near-duplicates share many bands; an unrelated text of a shared
  // vocabulary met through a common band key seldom shares a second). A
  // bitmap of the hashes met so far flags the texts that may be met again
  // (and a few others, which an exact count then drops).
  if (crowded.size() > 1) {
    uint64_t hashes_met[64] = {};
    thread_local std::vector<uint32_t> flagged;
    flagged.resize(crowded.size());
    size_t n = 0;
    for (const uint32_t slot : crowded) {
      const auto h = static_cast<uint32_t>((slot * 0x9E3779B97F4A7C15ULL) >> 52);
      const uint64_t bit = uint64_t{1} << (h & 63);
      flagged[n] = slot;
      n += (hashes_met[h >> 6] & bit) != 0;
      hashes_met[h >> 6] |= bit;
    }
    for (size_t i = 0; i < n; ++i) {
      if (std::count(crowded.begin(), crowded.end(), flagged[i]) > 1) {
        candidates.push_back(flagged[i]);
      }
    }
  }
  // Each distinct one once: a text is met once per band it shares.
  const size_t met = candidates.size();
  size_t bits = 6;
  while ((size_t{1} << bits) < 2 * met) ++bits;
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
  size_t distinct = 0;
  for (size_t i = 0; i < met; ++i) {
    if (first_time(candidates[i])) candidates[distinct++] = candidates[i];
  }
  candidates.resize(distinct);
  if (candidates.empty()) return matches;

  if (version_ == 1) {
    // equal / 128 >= threshold, decided in integers.
    const auto min_equal = static_cast<size_t>(
        std::ceil(threshold_ * kMinHashPermutations - 1e-9));
    for (const uint32_t slot : candidates) {
      const size_t equal = EqualValues(signature.values.data(), SignatureAt(slot));
      if (equal < min_equal) continue;
      matches.push_back(DedupMatch{
          slot_keys_[slot], static_cast<double>(equal) / kMinHashPermutations});
    }
  } else {
    // Each candidate is screened on its estimated Jaccard similarity, from
    // its head: it goes on to the verify step unless the estimate plus
    // kVerifyMargin reaches neither threshold and, where the verify model
    // can apply (a version-3 index, both texts with a matching form), the
    // estimate plus kRegionMargin neither bound of the model's region. At most kMaxVerifiedCandidates go on to the verify step.
    // Where there are more, the highest estimates are kept (ties by slot):
    // ranked by the bands they shared, as before 2026-12, a near-duplicate
    // sharing one band lost its place to unrelated texts sharing two
    // through a common phrase.
    alignas(16) uint8_t low[kHeadValues];
    LowBytesOf(signature.values.data(), low);
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
    // The candidates' heads are read kHeadsAhead ahead.
    constexpr size_t kHeadsAhead = 8;
    const auto fetch_head = [this](uint32_t slot) {
      const auto* head = reinterpret_cast<const char*>(&slot_heads_[slot]);
      __builtin_prefetch(head);
      __builtin_prefetch(head + 64);
    };
    for (size_t i = 0; i < std::min(kHeadsAhead, distinct); ++i) fetch_head(candidates[i]);
    thread_local std::vector<std::pair<double, uint32_t>> screened;  // (estimate, slot)
    screened.clear();
    for (size_t i = 0; i < distinct; ++i) {
      if (i + kHeadsAhead < distinct) fetch_head(candidates[i + kHeadsAhead]);
      const uint32_t slot = candidates[i];
      const SlotHead& head = slot_heads_[slot];
      const double estimate = LowBytesEstimate(low, head.low);
      if (may_match(head, estimate)) screened.emplace_back(estimate, slot);
    }
    const auto higher = [](const std::pair<double, uint32_t>& a,
                           const std::pair<double, uint32_t>& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    };
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
