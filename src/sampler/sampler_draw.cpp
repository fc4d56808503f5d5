// The sampling stages after the penalties: temperature, top-k, top-p, min-p and the draw.
// None of them sorts the whole vocabulary; their scratch is the thread's Sampler::Scratch.
#include <algorithm>
#include <cmath>
#include <limits>

#include "sampler/sampler.h"
#include "sampler/nucleus.h"
#include "sampler/scored.h"
#include "sampler/vocab_scan.h"

namespace qlm {

namespace {

// Candidate lists up to this size are sorted outright; longer ones are sorted in growing
// chunks (nth_element + sort) until the top-p mass is reached.
constexpr int kSortWhole = 4096;
constexpr int kFirstChunk = 1024;

}  // namespace

// Sorted path (top-k and/or top-p). Weights w = exp(logit / T - s_max) so the best has w = 1;
// min-p (p >= min_p * p_max) is then simply w >= min_p.
int Sampler::draw_sorted(Scratch& s, const float* logits, float max_pen, bool top_k_done, float* lp) {
  const float t = params_.temperature;
  const float s_max = max_pen / t;
  Scored* c = s.candidates.data();
  float* weight = s.weight.data();
  int n = 0;
  double z = 0.0;  // mass of the distribution top-p is measured against
  if (top_k_done) {
    n = params_.top_k;
    for (int j = 0; j < n; ++j) {
      const float w = exp_nonpos(logits[c[j].id] / t - s_max);
      weight[c[j].id] = w;
      z += w;
    }
  } else {  // top-p (top_p < 1), maybe min-p
    float* w = weight;
    z = exp_weight_blocks(logits, vocab_size_, t, s_max, 0.0f, w, s.block_sum.data());
    // Tokens below `cut` hold < (1 - top_p) of the mass together, so the top-p prefix lies
    // within those at or above it; min-p would drop the others anyway. As a float: the
    // smallest one at or above the bound, so that w >= cut means the same for every float w.
    const double bound = std::max((1.0 - params_.top_p) * z / vocab_size_, double(params_.min_p));
    float cut = static_cast<float>(bound);
    if (static_cast<double>(cut) < bound) cut = std::nextafter(cut, 2.0f);
    n = collect_range(logits, w, vocab_size_, cut, 2.0f, c, kSortWhole);
    if (n > kSortWhole) {
      // A nucleus of thousands: a histogram instead of sorting. Every candidate has
      // w >= cut >= min_p, so min-p removes nothing here.
      const Nucleus nucleus = nucleus_of_weights(logits, w, vocab_size_, cut, double(params_.top_p) * z, c);
      return draw_nucleus(s, logits, nucleus, t, s_max, lp);
    }
  }

  // Top-p: the shortest prefix (best first) whose mass reaches top_p * z.
  const double target =
      params_.top_p < 1.0f ? double(params_.top_p) * z : std::numeric_limits<double>::infinity();
  int kept = n;
  int sorted = top_k_done ? n : 0;
  int chunk = n <= kSortWhole ? n : kFirstChunk;
  double cum = 0.0;
  for (int j = 0;;) {
    const int end = std::min(n, std::max(chunk, sorted));
    if (sorted < end) {
      if (end < n) std::nth_element(c + sorted, c + end, c + n, better);
      std::sort(c + sorted, c + end, better);
      sorted = end;
    }
    for (; j < end; ++j) {
      cum += weight[c[j].id];
      if (cum >= target) break;
    }
    if (j < end) {
      kept = j + 1;
      break;
    }
    if (end == n) break;
    chunk *= 2;
  }
  // Min-p cuts a suffix of the same order, so it intersects with top-p as a shorter prefix.
  if (params_.min_p > 0.0f)
    for (int j = 1; j < kept; ++j)
      if (weight[c[j].id] < params_.min_p) {
        kept = j;
        break;
      }

  return draw_kept(s, logits, kept, t, s_max, lp);
}

// Draws from s.candidates[0, kept) in proportion to their weights (inverse CDF in the list's
// order) and gives the processed log-prob of the pick.
int Sampler::draw_kept(const Scratch& s, const float* logits, int kept, float t, float s_max, float* lp) {
  const Scored* c = s.candidates.data();
  const float* weight = s.weight.data();
  double z_kept = 0.0;
  for (int j = 0; j < kept; ++j) z_kept += weight[c[j].id];
  const double u = rng_.uniform() * z_kept;
  ++rng_draws_;
  int pick = c[0].id;
  double cum = 0.0;
  for (int j = 0; j < kept; ++j) {
    const float w = weight[c[j].id];
    if (w > 0.0f) pick = c[j].id;  // rounding fallback: the last token with mass
    cum += w;
    if (cum > u) break;
  }
  *lp = float(double(logits[pick] / t - s_max) - std::log(z_kept));
  return pick;
}

// The token where the cumulative weight (ids in order, only weights >= floor) passes u: whole
// blocks skipped through s.block_sum (which must hold those weights' per-block sums), then one
// block walked (a chain of dependent double adds, ~4 cycles each: over half of a 152k
// vocabulary on average it cost as much as all the vector passes together). Rounding fallback:
// the last token with mass walked, or before the block.
int Sampler::walk_blocks(const Scratch& s, float floor, double u) const {
  const float* w = s.weight.data();
  const int n_blocks = (vocab_size_ + kWeightBlock - 1) / kWeightBlock;
  double cum = 0.0;
  int b = 0;
  for (; b < n_blocks - 1 && cum + s.block_sum[b] <= u; ++b) cum += s.block_sum[b];
  int pick = -1;
  for (int i = b * kWeightBlock; i < vocab_size_; ++i) {
    if (w[i] < floor) continue;
    if (w[i] > 0.0f) pick = i;
    cum += w[i];
    if (cum > u) break;
  }
  for (int i = b * kWeightBlock - 1; pick < 0 && i >= 0; --i)
    if (w[i] >= floor && w[i] > 0.0f) pick = i;
  return pick;
}

// Draws from a nucleus in two parts (see Nucleus): the tokens with weight >= floor in id
// order, found through per-block sums, then the crossing bucket's members best first.
int Sampler::draw_nucleus(Scratch& s, const float* logits, const Nucleus& nucleus, float t, float s_max,
                          float* lp) {
  const float* w = s.weight.data();
  const Scored* c = s.candidates.data();
  const double z_whole = range_block_sums(w, vocab_size_, nucleus.floor, 2.0f, s.block_sum.data());
  double z_kept = z_whole;
  for (int j = 0; j < nucleus.members; ++j) z_kept += w[c[j].id];
  const double u = rng_.uniform() * z_kept;
  ++rng_draws_;
  int pick = -1;
  if (u < z_whole) {
    pick = walk_blocks(s, nucleus.floor, u);
  } else {
    double cum = z_whole;
    for (int j = 0; j < nucleus.members; ++j) {
      if (w[c[j].id] > 0.0f) pick = c[j].id;  // rounding fallback: the last token with mass
      cum += w[c[j].id];
      if (cum > u) break;
    }
  }
  *lp = float(double(logits[pick] / t - s_max) - std::log(z_kept));
  return pick;
}

// Dense path (temperature, optionally min-p): one pass writes the weights and their block
// sums; walk_blocks draws.
double Sampler::draw_dense(Scratch& s, const float* logits, float max_pen, int* id, float* lp) {
  const float t = params_.temperature;
  const float s_max = max_pen / t;
  const float min_p = params_.min_p;
  float* weight = s.weight.data();
  const double z = exp_weight_blocks(logits, vocab_size_, t, s_max, min_p, weight, s.block_sum.data());
  const double u = rng_.uniform() * z;
  ++rng_draws_;
  const int pick = walk_blocks(s, 0.0f, u);  // min-p's losers are already 0
  *lp = float(double(logits[pick] / t - s_max) - std::log(z));
  *id = pick;
  return z;
}

}  // namespace qlm
