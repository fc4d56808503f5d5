// The row loop of the float-weight matmuls (AVX2 and AVX-512): each output is one weight row's
// dot product with one activation row, in the ISA's own fixed order, so results never depend on
// the threads or the batch.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "quant/weight_matrix.h"

namespace qlm {

// y[m][r] = dot(weight row r, x[m], cols) (+ bias[r]). Blocks of 8 weight rows: their bytes
// stay in L1 while every activation row passes over them. Where the ISA gives dot4 (not
// nullptr), dot4(row, x[m], cols, out) fills out[0..4) for activation rows m .. m+3 at once,
// each in dot's own order (the weights are loaded and widened once for four rows), so the
// results equal dot's whatever the batch.
template <class Dot, class Dot4>
void float_matmul_rows(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y,
                       const Dot& dot, const Dot4& dot4) {
  const int64_t cols = w.cols;
  const size_t rb = w.row_bytes();
  const int64_t n_blocks = (w.rows + 7) / 8;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    const int64_t r_end = std::min(w.rows, blk * 8 + 8);
    int64_t m = 0;
    if constexpr (!std::is_same_v<Dot4, std::nullptr_t>) {
      for (; m + 4 <= n_rows; m += 4)
        for (int64_t r = blk * 8; r < r_end; ++r) {
          float out[4];
          dot4(w.data + r * rb, x + m * cols, cols, out);
          for (int t = 0; t < 4; ++t) y[(m + t) * w.rows + r] = out[t] + (bias ? bias[r] : 0.0f);
        }
    }
    for (; m < n_rows; ++m)
      for (int64_t r = blk * 8; r < r_end; ++r)
        y[m * w.rows + r] = dot(w.data + r * rb, x + m * cols, cols) + (bias ? bias[r] : 0.0f);
  }
}

// The same, with dot chosen by the weights' element type: dot(type, row, x, cols) where type is
// a std::integral_constant<DType, F32 | F16 | BF16>.
// With dot4(type, row, x, cols, out) as well (or nullptr), as float_matmul_rows.
template <class TypedDot, class TypedDot4 = std::nullptr_t>
void float_matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y,
                  const TypedDot& dot, const TypedDot4& dot4 = nullptr) {
  auto run = [&](auto type) {
    auto one = [&](const uint8_t* row, const float* xr, int64_t cols) { return dot(type, row, xr, cols); };
    if constexpr (std::is_same_v<TypedDot4, std::nullptr_t>) {
      float_matmul_rows(w, bias, x, n_rows, y, one, nullptr);
    } else {
      float_matmul_rows(w, bias, x, n_rows, y, one, [&](const uint8_t* row, const float* xr, int64_t cols, float* out) {
        dot4(type, row, xr, cols, out);
      });
    }
  };
  switch (w.float_dtype) {
    case DType::BF16: return run(std::integral_constant<DType, DType::BF16>{});
    case DType::F16: return run(std::integral_constant<DType, DType::F16>{});
    default: return run(std::integral_constant<DType, DType::F32>{});
  }
}

}  // namespace qlm
