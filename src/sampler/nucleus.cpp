// See nucleus.h. Weights are non-negative floats <= 1, whose bit patterns order like their
// values, so bits >> kWeightBucketShift is a bucket index that is monotone in the weight (and
// so in the logit): exponent plus the top 7 mantissa bits.
#include "sampler/nucleus.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "sampler/vocab_scan.h"

namespace qlm {

Nucleus nucleus_of_weights(const float* logits, const float* weight, int n, float cut, double target, Scored* c) {
  thread_local std::vector<double> lanes;  // samplers run on many threads at once
  lanes.resize(size_t{kHistogramLanes} * kWeightBuckets);
  // Buckets from the cut's to 1's (the best token's weight is exp(0) = 1 exactly).
  const int bottom = int(std::bit_cast<uint32_t>(cut) >> kWeightBucketShift);
  const int top = int(std::bit_cast<uint32_t>(1.0f) >> kWeightBucketShift);
  for (int l = 0; l < kHistogramLanes; ++l)
    std::fill(lanes.begin() + l * kWeightBuckets + bottom, lanes.begin() + l * kWeightBuckets + top + 1, 0.0);
  weight_histogram(weight, n, cut, lanes.data());
  // From the best bucket down: every bucket that leaves the mass short of target is kept whole.
  double cum = 0.0;
  int cross = top;
  for (; cross >= bottom; --cross) {
    double mass = 0.0;
    for (int l = 0; l < kHistogramLanes; ++l) mass += lanes[size_t(l) * kWeightBuckets + cross];
    if (cum + mass >= target) break;
    cum += mass;
  }
  if (cross < bottom) return Nucleus{.floor = cut, .members = 0};  // rounding: every candidate
  const float floor = std::bit_cast<float>(uint32_t(cross + 1) << kWeightBucketShift);
  const float lo = std::max(cut, std::bit_cast<float>(uint32_t(cross) << kWeightBucketShift));
  const int in_bucket = collect_range(logits, weight, n, lo, floor, c, n);
  std::sort(c, c + in_bucket, better);
  int members = 0;
  while (members < in_bucket) {
    cum += weight[c[members++].id];
    if (cum >= target) break;
  }
  return Nucleus{.floor = floor, .members = members};
}

}  // namespace qlm
