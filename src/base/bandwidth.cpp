// Streaming-read bandwidth: each thread sums its own contiguous slice with 32 independent
// accumulators; the sum is kept so the reads stay. The slice sum is also compiled for AVX-512
// (x86-64-v4): on a Sapphire Rapids VM the baseline SSE2 loop read 17-20 GB/s where the
// 64-byte loads the decode kernels issue reach 25-27, and the roofline fraction divides by this.
#include "base/bandwidth.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "base/timer.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QLM_STREAM_CLONES __attribute__((target_clones("arch=x86-64-v4", "default")))
#else
#define QLM_STREAM_CLONES
#endif

namespace qlm {

namespace {
constexpr size_t kLanes = 32;  // four 64-byte vectors in flight per iteration
}  // namespace

QLM_STREAM_CLONES uint64_t streaming_sum(const uint64_t* p, size_t n) {
  uint64_t acc[kLanes] = {};
  for (size_t i = 0; i + kLanes <= n; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) acc[j] += p[i + j];
  uint64_t total = 0;
  for (uint64_t a : acc) total += a;
  return total;
}

double measure_read_bandwidth(size_t buffer_bytes, int reps) {
  const size_t n = buffer_bytes / sizeof(uint64_t) / kLanes * kLanes;
  auto* buf = static_cast<uint64_t*>(std::aligned_alloc(64, n * sizeof(uint64_t)));
  if (buf == nullptr) return 0;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) buf[i] = i;  // first touch by the thread that will read it
  std::vector<double> rates;
  volatile uint64_t sink = 0;
  for (int r = 0; r < reps + 1; ++r) {
    Timer t;
    uint64_t total = 0;
#pragma omp parallel reduction(+ : total)
    {
      // The same contiguous halves as the static schedule that touched them.
      const size_t nt = static_cast<size_t>(omp_get_num_threads()), id = static_cast<size_t>(omp_get_thread_num());
      const size_t begin = n / kLanes * id / nt * kLanes, end = n / kLanes * (id + 1) / nt * kLanes;
      total += streaming_sum(buf + begin, end - begin);
    }
    sink = sink + total;
    if (r > 0) rates.push_back(static_cast<double>(n * sizeof(uint64_t)) / t.seconds());  // pass 0 warms up
  }
  std::free(buf);
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace qlm
