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

// Bytes of one 16-row block's part, and where block blk's part starts (m.blocked_params set).
inline size_t blocked_params_block_bytes(const WeightMatrix& m) {
  return static_cast<size_t>(m.groups_per_row()) * 32 * dtype_size(m.float_dtype);
}
inline const uint8_t* blocked_params_block(const WeightMatrix& m, int64_t blk) {
  return m.blocked_params.get() + static_cast<size_t>(blk) * blocked_params_block_bytes(m);
}

// Builds and attaches m.blocked_params (affine matrices only; others are left as they are), in
// a slot of `arena` (one with room for it) or, when null, memory of its own.
void attach_blocked_params(WeightMatrix& m, const std::shared_ptr<PageArena>& arena = nullptr);
// The same into `reuse`, a buffer of the right size this matrix had before (a weight sync
// refilling it in place: no new pages to fault in, and it keeps the load arena's 2 MB pages).
void attach_blocked_params(WeightMatrix& m, std::shared_ptr<uint8_t> reuse);

}  // namespace qlm
