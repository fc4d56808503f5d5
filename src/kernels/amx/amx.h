// Entry points of the AMX (tile int8) kernels. Declarations only: no ISA flags needed to call.
#pragma once

#include <cstdint>

#include "quant/weight_matrix.h"

namespace qlm::amx {

// True if the CPU has AMX-TILE and AMX-INT8 and the kernel granted this process the tile
// state (arch_prctl ARCH_REQ_XCOMP_PERM); asked once per process.
bool available();

// Same contract as KernelTable::matmul. q4/q8 affine with n_rows ≥ 16 run on tdpbusd tiles;
// everything else goes to the AVX-512 table, whose float order the tiles reproduce bit for bit.
void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);

// KernelTable::matmul_multi: n_rows ≥ 16 as separate tile matmuls (compute bound), fewer rows
// through the AVX-512 shared-activation path.
void matmul_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                  int64_t n_rows, float* const* ys);

}  // namespace qlm::amx
