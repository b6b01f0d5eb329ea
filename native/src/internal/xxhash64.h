// XXH64 (xxHash, 64-bit), implemented from its public specification
// (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md). Inline so
// that fixed-size calls (the 8- and 16-byte shingle hashes) are unrolled.
// Chosen over libxxhash-dev to keep the hash bit-exact and dependency-free:
// signatures are persisted, so the function must never change under us.
#ifndef TIPLINE_INTERNAL_XXHASH64_H_
#define TIPLINE_INTERNAL_XXHASH64_H_

#include <cstddef>
#include <cstdint>

namespace tipline::internal {

constexpr uint64_t kXxhPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kXxhPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kXxhPrime3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kXxhPrime4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kXxhPrime5 = 0x27D4EB2F165667C5ULL;

inline uint64_t XxhRotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];  // little-endian anywhere
  return v;
}
inline uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
inline void StoreLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void StoreLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

inline uint64_t XxhRound(uint64_t acc, uint64_t input) {
  acc += input * kXxhPrime2;
  acc = XxhRotl(acc, 31);
  return acc * kXxhPrime1;
}
inline uint64_t XxhMergeRound(uint64_t acc, uint64_t val) {
  acc ^= XxhRound(0, val);
  return acc * kXxhPrime1 + kXxhPrime4;
}

inline uint64_t XxHash64Inline(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  const uint8_t* const end = p + size;
  uint64_t h;
  if (size >= 32) {
    uint64_t v1 = seed + kXxhPrime1 + kXxhPrime2;
    uint64_t v2 = seed + kXxhPrime2;
    uint64_t v3 = seed;
    uint64_t v4 = seed - kXxhPrime1;
    const uint8_t* const limit = end - 32;
    do {
      v1 = XxhRound(v1, LoadLe64(p));
      v2 = XxhRound(v2, LoadLe64(p + 8));
      v3 = XxhRound(v3, LoadLe64(p + 16));
      v4 = XxhRound(v4, LoadLe64(p + 24));
      p += 32;
    } while (p <= limit);
    h = XxhRotl(v1, 1) + XxhRotl(v2, 7) + XxhRotl(v3, 12) + XxhRotl(v4, 18);
    h = XxhMergeRound(h, v1);
    h = XxhMergeRound(h, v2);
    h = XxhMergeRound(h, v3);
    h = XxhMergeRound(h, v4);
  } else {
    h = seed + kXxhPrime5;
  }
  h += static_cast<uint64_t>(size);
  while (end - p >= 8) {
    h ^= XxhRound(0, LoadLe64(p));
    h = XxhRotl(h, 27) * kXxhPrime1 + kXxhPrime4;
    p += 8;
  }
  if (end - p >= 4) {
    h ^= static_cast<uint64_t>(LoadLe32(p)) * kXxhPrime1;
    h = XxhRotl(h, 23) * kXxhPrime2 + kXxhPrime3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<uint64_t>(*p) * kXxhPrime5;
    h = XxhRotl(h, 11) * kXxhPrime1;
    ++p;
  }
  h ^= h >> 33;
  h *= kXxhPrime2;
  h ^= h >> 29;
  h *= kXxhPrime3;
  h ^= h >> 32;
  return h;
}

}  // namespace tipline::internal

#endif  // TIPLINE_INTERNAL_XXHASH64_H_
