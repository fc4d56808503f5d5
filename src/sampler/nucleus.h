// Top-p over a large candidate set without sorting it: a histogram of the weights' float bits
// finds the bucket where the cumulative mass (best first) crosses the target; only that
// bucket is sorted. Used when the nucleus is thousands of tokens (flat distributions: high
// temperature, random or undertrained models), where sorting the candidates dominated the
// per-token cost.
#pragma once

#include "sampler/scored.h"

namespace qlm {

// c[0, n): candidates (penalised logit, id), in any order; weight[id] in [0, 1] is the token's
// temperature weight, non-decreasing in its logit. Reorders c so that c[0, kept) is the
// shortest prefix of the (logit desc, id asc) order whose mass reaches target, and returns
// kept (n when the whole set falls short, by rounding). c[0, kept) is not sorted: the tokens
// of the buckets above the crossing one come first (in a fixed order), then the crossing
// bucket's tokens sorted by `better`.
int nucleus_by_histogram(Scored* c, int n, const float* weight, double target);

}  // namespace qlm
