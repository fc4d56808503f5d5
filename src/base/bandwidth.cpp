// Streaming-read bandwidth: each thread sums its own contiguous slice with independent
// accumulators (the compiler vectorises the loop); the sum is kept so the reads stay.
#include "base/bandwidth.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/timer.h"

namespace qlm {

double measure_read_bandwidth(size_t buffer_bytes, int reps) {
  const size_t n = buffer_bytes / sizeof(uint64_t);
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
      uint64_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
#pragma omp for schedule(static)
      for (size_t i = 0; i < n; i += 8)
        for (int j = 0; j < 8; ++j) acc[j] += buf[i + j];
      for (uint64_t a : acc) total += a;
    }
    sink = sink + total;
    if (r > 0) rates.push_back(static_cast<double>(n * sizeof(uint64_t)) / t.seconds());  // pass 0 warms up
  }
  std::free(buf);
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace qlm
