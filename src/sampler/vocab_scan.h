// Vectorisable passes over a [vocab] logit row: a branch-free exp, the fused
// max/argmax/log-sum-exp/top-n scan, and summing weights in a fixed lane order. On x86-64 the
// passes are also compiled for AVX-512 (x86-64-v4) and picked at load time by the CPU; a
// machine always runs the same version, so results stay reproducible on it.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "sampler/scored.h"

namespace qlm {

// exp(x) for x <= 0 (Cephes expf: Cody-Waite reduction + degree-6 polynomial); checked
// exhaustively against double exp: <= 8.4e-8 relative on [-87, 0]; exp(0) == 1 exactly;
// x < -87 (and -inf) -> 0. Selections go through integer bits: float compares count as
// trapping under GCC's default -ftrapping-math and would block vectorisation.
inline float exp_nonpos(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  constexpr uint32_t kMinus87 = 0xC2AE0000u;  // for x <= 0, bits > kMinus87 <=> x < -87
  const bool under = bits > kMinus87;
  const float clamped = std::bit_cast<float>(under ? kMinus87 : bits);
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float t = clamped * 1.44269504088896341f + kMagic;
  const float n = t - kMagic;
  const float r = (clamped - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  // n sits in the low mantissa bits of t: 2^n built from them, no float->int conversion.
  const float scale = std::bit_cast<float>((std::bit_cast<uint32_t>(t) - 0x4B400000u + 127u) << 23);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(e * scale) & (under ? 0u : ~0u));
}

// w if w >= floor else 0, for non-negative floats (whose bit patterns order like values).
inline float keep_at_least(float w, float floor) {
  const uint32_t bits = std::bit_cast<uint32_t>(w);
  return std::bit_cast<float>(bits < std::bit_cast<uint32_t>(floor) ? 0u : bits);
}

// weight[i] = keep_at_least(exp_nonpos(logits[i] / t - s_max), floor), the temperature weights
// of the draw (the best token's logit / t is s_max, so weights are <= 1), and per block of
// kWeightBlock weights their sum (sixteen double lanes, fixed order) in
// block_sum[(n + kWeightBlock - 1) / kWeightBlock]; returns the block sums added in block order.
// One pass while each block is in L1, and the draw can then skip whole blocks.
constexpr int kWeightBlock = 512;
double exp_weight_blocks(const float* logits, int n, float t, float s_max, float floor, float* weight,
                         double* block_sum);

// Weights in [lo, hi): non-negative floats compared through their bit patterns (one unsigned
// compare; hi = 2 means no upper bound, weights being <= 1).
inline bool in_range(float w, float lo, float hi) {
  const uint32_t b = std::bit_cast<uint32_t>(w), l = std::bit_cast<uint32_t>(lo);
  return b - l < std::bit_cast<uint32_t>(hi) - l;
}

// Per block of kWeightBlock weights, the sum of those in [lo, hi) (sixteen double lanes) in
// block_sum; returns the block sums added in block order.
double range_block_sums(const float* w, int n, float lo, float hi, double* block_sum);

// Writes (logits[i], i) for the i with w[i] in [lo, hi), in id order, to out[0, limit); returns
// how many there are, or limit + 1 as soon as there are more than limit.
int collect_range(const float* logits, const float* w, int n, float lo, float hi, Scored* out, int limit);

// heap[0, k) := the k best (x[i], i) by `better`, sorted best first (0 < k <= n). A heap whose
// root is the worst kept candidate, so most tokens cost one comparison.
void select_top_k(const float* x, int n, int k, Scored* heap);

// Histogram of weights by their bits >> kWeightBucketShift (exponent and top 7 mantissa bits:
// monotone in the weight), for the weights >= cut; weights must be <= 1. Token i adds to
// lanes[(i % kHistogramLanes) * kWeightBuckets + bucket] so that consecutive tokens never wait
// on one bucket's read-modify-write; the caller zeroes buckets [bucket(cut), bucket(1)] of each
// lane first, and adds a bucket's lanes in lane order.
constexpr int kWeightBucketShift = 16;
constexpr int kWeightBuckets = int(0x3F800000u >> kWeightBucketShift) + 2;  // the last: below cut
constexpr int kHistogramLanes = 4;
void weight_histogram(const float* w, int n, float cut, double* lanes);

struct VocabScan {
  float max = 0.0f;  // -FLT_MAX when every entry is -inf
  int argmax = -1;   // first index holding max: ties -> lowest id
  double sum = 0.0;  // sum of exp(x - max), when asked for
};

// One pass in blocks that stay in L1: block max (vectorised), argmax and rescaling only when
// the max improves, then exp(x - max) summed per lane. With top_n > 0, `heap` receives the
// best top_n (value, id) as a heap whose front is the worst; blocks that cannot enter it are
// skipped with one comparison.
VocabScan scan_vocab(const float* x, int n, bool want_sum, std::vector<Scored>* heap, int top_n);

}  // namespace qlm
