// See nucleus.h. Weights are non-negative floats <= 1, whose bit patterns order like their
// values, so bits >> kShift is a bucket index that is monotone in the weight (and so in the
// logit): exponent plus the top 7 mantissa bits, 16,257 buckets.
#include "sampler/nucleus.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace qlm {

namespace {
constexpr int kShift = 16;
constexpr uint32_t kOne = 0x3F800000u;  // bits of 1.0f, the largest weight
constexpr int kBuckets = int(kOne >> kShift) + 1;

inline int bucket_of(float w) {
  return int(std::min(std::bit_cast<uint32_t>(w), kOne) >> kShift);
}
}  // namespace

int nucleus_by_histogram(Scored* c, int n, const float* weight, double target) {
  thread_local std::vector<double> mass;  // samplers run on many threads at once
  mass.assign(kBuckets, 0.0);
  int top = 0;
  for (int j = 0; j < n; ++j) {
    const float w = weight[c[j].id];
    const int b = bucket_of(w);
    mass[b] += w;
    top = std::max(top, b);
  }
  // From the best bucket down: every bucket that leaves the mass short of target is kept whole.
  double cum = 0.0;
  int cross = top;
  for (; cross >= 0; --cross) {
    if (cum + mass[cross] >= target) break;
    cum += mass[cross];
  }
  if (cross < 0) return n;  // rounding: the whole set is the nucleus
  Scored* above = std::partition(c, c + n, [&](const Scored& s) { return bucket_of(weight[s.id]) > cross; });
  Scored* end = std::partition(above, c + n, [&](const Scored& s) { return bucket_of(weight[s.id]) == cross; });
  std::sort(above, end, better);
  int kept = int(above - c);
  for (Scored* s = above; s < end; ++s) {
    cum += weight[s->id];
    ++kept;
    if (cum >= target) break;
  }
  return kept;
}

}  // namespace qlm
