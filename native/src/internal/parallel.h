// Splits [0, n) into contiguous chunks run on up to hardware_concurrency
// threads (the caller runs the first chunk). Small inputs stay on the caller.
#ifndef TIPLINE_INTERNAL_PARALLEL_H_
#define TIPLINE_INTERNAL_PARALLEL_H_

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace tipline::internal {

template <class Fn>  // Fn(size_t begin, size_t end), must not throw
void ParallelFor(size_t n, size_t min_per_thread, Fn&& fn) {
  const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  const size_t wanted = min_per_thread == 0 ? cores : n / min_per_thread;
  const size_t threads = std::clamp<size_t>(wanted, 1, cores);
  if (threads <= 1) {
    if (n > 0) fn(size_t{0}, n);
    return;
  }
  const size_t chunk = (n + threads - 1) / threads;
  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) {
    const size_t begin = std::min(n, t * chunk);
    const size_t end = std::min(n, begin + chunk);
    if (begin < end) workers.emplace_back([&fn, begin, end] { fn(begin, end); });
  }
  fn(size_t{0}, std::min(n, chunk));
  for (auto& worker : workers) worker.join();
}

}  // namespace tipline::internal

#endif  // TIPLINE_INTERNAL_PARALLEL_H_
