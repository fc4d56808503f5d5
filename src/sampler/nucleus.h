// Top-p over a flat distribution without sorting it: a histogram of the weights' float bits
// finds the bucket where the cumulative mass (best first) crosses the target; only that
// bucket's tokens are collected and sorted. Used when thousands of tokens pass the cut (high
// temperature, random or undertrained models), where building and sorting a candidate list
// dominated the per-token cost.
#pragma once

#include "sampler/scored.h"

namespace qlm {

// The nucleus as two parts: every token whose weight is >= `floor` (all of the buckets above
// the crossing one), then the crossing bucket's best `members` tokens, c[0, members) best first.
// Together they are the shortest prefix of the (logit desc, id asc) order whose mass reaches
// the target (the whole set of weights >= cut when rounding leaves it short).
struct Nucleus {
  float floor = 0.0f;
  int members = 0;
};

// weight[0, n): the temperature weights, in [0, 1] and non-decreasing in the logit; only
// tokens with weight >= cut are candidates. c: scratch for up to n entries.
Nucleus nucleus_of_weights(const float* logits, const float* weight, int n, float cut, double target, Scored* c);

}  // namespace qlm
