// Reference matmul: dequantize one weight row at a time to F32 and dot it with every input
// row. Rows are split across OpenMP threads; each output is one thread's sequential sum, so
// results are bit-identical for any thread count.
#include <vector>

#include "kernels/kernel_table.h"

namespace qlm::ref {

// Eight interleaved partial sums combined pairwise: a fixed order the compiler can map onto
// SIMD lanes without -ffast-math.
static float dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  for (int j = 0; i < n; ++i, ++j) acc[j] += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  const int64_t cols = w.cols;
#pragma omp parallel
  {
    thread_local std::vector<float> row;  // grows once per thread, then reused
    row.resize(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < w.rows; ++r) {
      dequantize_row(w, r, row.data());
      const float b = bias != nullptr ? bias[r] : 0.0f;
      for (int64_t m = 0; m < n_rows; ++m) {
        const float* xm = x + m * cols;
        y[m * w.rows + r] = dot(row.data(), xm, cols) + b;
      }
    }
  }
}

void matmul_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                  int64_t n_rows, float* const* ys) {
  for (int i = 0; i < count; ++i) matmul(*ws[i], biases[i], x, n_rows, ys[i]);
}

}  // namespace qlm::ref
