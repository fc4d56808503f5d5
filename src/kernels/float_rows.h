// The row loop of the float-weight matmuls (AVX2 and AVX-512): each output is one weight row's
// dot product with one activation row, in the ISA's own fixed order, so results never depend on
// the threads or the batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "quant/weight_matrix.h"

namespace qlm {

// y[m][r] = dot(weight row r, x[m], cols) (+ bias[r]). Blocks of 8 weight rows: their bytes
// stay in L1 while every activation row passes over them.
template <class Dot>
void float_matmul_rows(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y,
                       const Dot& dot) {
  const int64_t cols = w.cols;
  const size_t rb = w.row_bytes();
  const int64_t n_blocks = (w.rows + 7) / 8;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    const int64_t r_end = std::min(w.rows, blk * 8 + 8);
    for (int64_t m = 0; m < n_rows; ++m)
      for (int64_t r = blk * 8; r < r_end; ++r)
        y[m * w.rows + r] = dot(w.data + r * rb, x + m * cols, cols) + (bias ? bias[r] : 0.0f);
  }
}

// The same, with dot chosen by the weights' element type: dot(type, row, x, cols) where type is
// a std::integral_constant<DType, F32 | F16 | BF16>.
template <class TypedDot>
void float_matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y,
                  const TypedDot& dot) {
  auto run = [&](auto type) {
    float_matmul_rows(w, bias, x, n_rows, y,
                      [&](const uint8_t* row, const float* xr, int64_t cols) { return dot(type, row, xr, cols); });
  };
  switch (w.float_dtype) {
    case DType::BF16: return run(std::integral_constant<DType, DType::BF16>{});
    case DType::F16: return run(std::integral_constant<DType, DType::F16>{});
    default: return run(std::integral_constant<DType, DType::F32>{});
  }
}

}  // namespace qlm
