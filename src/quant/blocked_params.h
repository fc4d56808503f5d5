// Scales and biases of an affine matrix regrouped for the int8 kernels (WeightMatrix::
// blocked_params): per 16-row block and group, the 16 rows' scales then their 16 biases, in the
// matrix's own float type (so the values, and every kernel result, are unchanged). Rows past
// the end of the last block repeat the last row, as the kernels' own set-up does.
#pragma once

#include <cstddef>
#include <memory>

#include "base/page_arena.h"
#include "quant/weight_matrix.h"

namespace qlm {

// Bytes of m's blocked scales and biases; 0 for matrices that have none (not affine).
size_t blocked_params_bytes(const WeightMatrix& m);

// Builds and attaches m.blocked_params (affine matrices only; others are left as they are), in
// a slot of `arena` (one with room for it) or, when null, memory of its own.
void attach_blocked_params(WeightMatrix& m, const std::shared_ptr<PageArena>& arena = nullptr);

}  // namespace qlm
