// Measured memory read bandwidth: all threads stream over a buffer much larger than the
// last-level cache. The denominator of the roofline fraction.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qlm {

// Bytes per second, the median of `reps` passes over `buffer_bytes` (allocated and touched once).
double measure_read_bandwidth(size_t buffer_bytes = size_t{1} << 30, int reps = 5);

// Sum of p[0, n) as a streaming read (n a multiple of 32): 32 independent accumulators and, on
// x86-64, an AVX-512 build picked at load time. The loop of both of the above.
uint64_t streaming_sum(const uint64_t* p, size_t n);

}  // namespace qlm
