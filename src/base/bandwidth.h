// Measured memory read bandwidth: all threads stream over a buffer much larger than the
// last-level cache. The denominator of the roofline fraction.
#pragma once

#include <cstddef>

namespace qlm {

// Bytes per second, the median of `reps` passes over `buffer_bytes` (allocated and touched once).
double measure_read_bandwidth(size_t buffer_bytes = size_t{1} << 30, int reps = 5);

}  // namespace qlm
