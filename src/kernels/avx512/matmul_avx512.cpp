// The AVX-512 table's matmul: routes each call to the int8 VNNI, float FMA or reference kernel.
#include "kernels/avx512/avx512.h"
#include "kernels/kernel_table.h"

namespace qlm::avx512 {

void matmul_int8(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);
void matmul_int8_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                       int64_t n_rows, float* const* ys);
void matmul_float(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);

bool int8_supported(const WeightMatrix& w) {
  return w.int8_kernel_format();
}

void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  if (w.format == WeightFormat::Float) return matmul_float(w, bias, x, n_rows, y);
  if (int8_supported(w)) return matmul_int8(w, bias, x, n_rows, y);
  ref::matmul(w, bias, x, n_rows, y);  // 2/3/5/6-bit and unusual groups: the spec, per call
}

bool share_int8_format(const WeightMatrix* const* ws, int count) {
  bool shared = count > 0;
  for (int i = 0; i < count && shared; ++i)
    shared = int8_supported(*ws[i]) && ws[i]->bits == ws[0]->bits && ws[i]->group_size == ws[0]->group_size &&
             ws[i]->cols == ws[0]->cols;
  return shared;
}

void matmul_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                  int64_t n_rows, float* const* ys) {
  if (share_int8_format(ws, count)) return matmul_int8_multi(ws, biases, count, x, n_rows, ys);
  for (int i = 0; i < count; ++i) matmul(*ws[i], biases[i], x, n_rows, ys[i]);
}

}  // namespace qlm::avx512
