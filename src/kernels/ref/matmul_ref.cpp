// Reference matmul: dequantize one weight row at a time to F32 and dot it with every input
// row. Rows are split across OpenMP threads; each output is one thread's sequential sum, so
// results are bit-identical for any thread count.
#include <vector>

#include "kernels/kernel_table.h"

namespace qlm::ref {

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
        float acc = 0.0f;
        for (int64_t c = 0; c < cols; ++c) acc += row[c] * xm[c];
        y[m * w.rows + r] = acc + b;
      }
    }
  }
}

}  // namespace qlm::ref
