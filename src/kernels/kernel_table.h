// The compute kernels behind the forward pass, as one table of function pointers filled once
// at start-up (QLM_ISA=ref forces the scalar reference). Every entry has a scalar reference
// in kernels/ref that is its specification. Float reductions run in a fixed order, so results
// never depend on the thread count.
#pragma once

#include <cstdint>
#include <string>

#include "quant/weight_matrix.h"

namespace qlm {

struct KernelTable {
  std::string isa;  // "ref", ...
  // y[m][r] = sum_c x[m][c] * w[r][c] (+ bias[r] if bias) for m < n_rows.  x: [n_rows][w.cols],
  // y: [n_rows][w.rows].
  void (*matmul)(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);
};

// The table chosen for this process (first call decides; QLM_ISA overrides).
const KernelTable& kernels();

// Tables for each ISA this binary has, for tests that compare them ("ref" always exists).
const KernelTable* kernel_table_for(const std::string& isa);

namespace ref {
void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);
}

}  // namespace qlm
