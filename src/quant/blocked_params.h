// Scales and biases of an affine matrix regrouped for the int8 kernels (WeightMatrix::
// blocked_params): per 16-row block and group, the 16 rows' scales then their 16 biases, in the
// matrix's own float type (so the values, and every kernel result, are unchanged). Rows past
// the end of the last block repeat the last row, as the kernels' own set-up does.
#pragma once

#include "quant/weight_matrix.h"

namespace qlm {

// Builds and attaches m.blocked_params (affine matrices only; others are left as they are).
void attach_blocked_params(WeightMatrix& m);

}  // namespace qlm
