// Randomness from the OpenSSL CSPRNG. Nothing in Tipline uses another source.
#ifndef TIPLINE_RANDOM_H_
#define TIPLINE_RANDOM_H_

#include <cstddef>
#include <cstdint>

#include "tipline/status.h"

namespace tipline {

// Fills out[0, n) with RAND_bytes. On failure the output is zeroed and
// kInternal is returned.
[[nodiscard]] Status RandomBytes(uint8_t* out, size_t n);

// A per-thread reserve of CSPRNG output, refilled kCapacity bytes at a time, so
// that small draws (12-byte IVs, tracking numbers) cost a memcpy rather than a
// RAND_bytes call. Bytes are wiped from the reserve as soon as they are handed
// out, and the whole reserve is wiped on refill failure and on destruction.
// A forked child never reuses bytes its parent already buffered (a duplicated
// IV would be fatal for AES-GCM): the reserve is discarded after fork().
class RandomBuffer {
 public:
  static constexpr size_t kCapacity = 4096;

  RandomBuffer() = default;
  ~RandomBuffer();
  RandomBuffer(const RandomBuffer&) = delete;
  RandomBuffer& operator=(const RandomBuffer&) = delete;

  // The calling thread's buffer.
  static RandomBuffer& ForThisThread();

  // Same contract as RandomBytes.
  [[nodiscard]] Status Fill(uint8_t* out, size_t n);

 private:
  [[nodiscard]] Status Refill();
  void Discard() noexcept;

  uint8_t bytes_[kCapacity];
  size_t next_ = kCapacity;  // bytes_[next_, kCapacity) are unused
  unsigned long fork_generation_ = 0;
};

// RandomBuffer::ForThisThread().Fill(out, n).
[[nodiscard]] Status BufferedRandomBytes(uint8_t* out, size_t n);

}  // namespace tipline

#endif  // TIPLINE_RANDOM_H_
