// The load-time copies the int8 kernels read, together: a matrix's blocked scales and biases
// (blocked_params.h) and, for tables that read them, its interleaved codes
// (interleaved_codes.h). Callers size one PageArena for a set of matrices with
// kernel_copy_bytes and fill it with attach_kernel_copies, so the two can never disagree.
#pragma once

#include <cstddef>
#include <memory>

#include "base/page_arena.h"
#include "quant/weight_matrix.h"

namespace qlm {

// Arena bytes (whole slots) that attach_kernel_copies(m, interleave, ...) takes; 0 for
// matrices that get no copies (not affine).
size_t kernel_copy_bytes(const WeightMatrix& m, bool interleave);

// Attaches m's copies in slots of `arena` (one with room for kernel_copy_bytes(m, interleave)).
void attach_kernel_copies(WeightMatrix& m, bool interleave, const std::shared_ptr<PageArena>& arena);

}  // namespace qlm
