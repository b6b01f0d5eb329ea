#include "tipline/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <mutex>

namespace tipline {
namespace {

// Bumped in every forked child; a buffer filled under another generation is
// stale (its bytes may also be handed out by the parent).
std::atomic<unsigned long> g_fork_generation{1};

void OnForkInChild() {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
}

unsigned long CurrentForkGeneration() {
  static std::once_flag once;
  std::call_once(once, [] {
    // pthread_atfork only fails with ENOMEM; then every draw refills instead.
    if (pthread_atfork(nullptr, nullptr, &OnForkInChild) != 0) {
      g_fork_generation.store(0, std::memory_order_relaxed);
    }
  });
  return g_fork_generation.load(std::memory_order_relaxed);
}

}  // namespace

Status RandomBytes(uint8_t* out, size_t n) {
  if (n == 0) return Status::Ok();
  if (out == nullptr) return InvalidArgumentError("RandomBytes: null output");
  size_t done = 0;
  while (done < n) {  // RAND_bytes takes an int length
    const size_t chunk = n - done > static_cast<size_t>(INT_MAX)
                             ? static_cast<size_t>(INT_MAX)
                             : n - done;
    if (RAND_bytes(out + done, static_cast<int>(chunk)) != 1) {
      OPENSSL_cleanse(out, n);
      return InternalError("the system random number generator failed");
    }
    done += chunk;
  }
  return Status::Ok();
}

RandomBuffer::~RandomBuffer() { OPENSSL_cleanse(bytes_, sizeof(bytes_)); }

RandomBuffer& RandomBuffer::ForThisThread() {
  thread_local RandomBuffer buffer;
  return buffer;
}

void RandomBuffer::Discard() noexcept {
  OPENSSL_cleanse(bytes_, sizeof(bytes_));
  next_ = kCapacity;
}

Status RandomBuffer::Refill() {
  const unsigned long generation = CurrentForkGeneration();
  Status status = RandomBytes(bytes_, kCapacity);  // wipes bytes_ on failure
  if (!status.ok()) {
    next_ = kCapacity;
    return status;
  }
  next_ = 0;
  fork_generation_ = generation;
  return Status::Ok();
}

Status RandomBuffer::Fill(uint8_t* out, size_t n) {
  if (n == 0) return Status::Ok();
  if (out == nullptr) return InvalidArgumentError("RandomBuffer: null output");
  // Large draws gain nothing from buffering.
  if (n > kCapacity / 4) return RandomBytes(out, n);

  const unsigned long generation = CurrentForkGeneration();
  if (generation == 0 || fork_generation_ != generation) Discard();
  if (kCapacity - next_ < n) {
    Discard();
    Status status = Refill();
    if (!status.ok()) {
      OPENSSL_cleanse(out, n);
      return status;
    }
  }
  std::memcpy(out, bytes_ + next_, n);
  OPENSSL_cleanse(bytes_ + next_, n);
  next_ += n;
  return Status::Ok();
}

Status BufferedRandomBytes(uint8_t* out, size_t n) {
  return RandomBuffer::ForThisThread().Fill(out, n);
}

}  // namespace tipline
