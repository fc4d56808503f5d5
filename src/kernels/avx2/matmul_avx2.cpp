// The AVX2 table's matmul: routes each call to the int8, float FMA or reference kernel.
#include "kernels/avx2/avx2.h"

#include <cpuid.h>

namespace qlm::avx2 {

bool cpu_supported() {
  __builtin_cpu_init();
  // F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports does not know "f16c".
  unsigned a = 0, b = 0, c = 0, d = 0;
  const bool f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
}

void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  if (w.format == WeightFormat::Float) return matmul_float(w, bias, x, n_rows, y);
  if (int8_ready(w)) {
    const WeightMatrix* const ws[1] = {&w};
    return matmul_int8_multi(ws, &bias, 1, x, n_rows, &y);
  }
  ref::matmul(w, bias, x, n_rows, y);  // 2/3/5/6-bit and unusual groups: the spec, per call
}

void matmul_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                  int64_t n_rows, float* const* ys) {
  bool shared = count > 0 && count <= 8;
  for (int i = 0; i < count && shared; ++i)
    shared = int8_ready(*ws[i]) && ws[i]->bits == ws[0]->bits && ws[i]->group_size == ws[0]->group_size &&
             ws[i]->cols == ws[0]->cols;
  if (shared) return matmul_int8_multi(ws, biases, count, x, n_rows, ys);
  for (int i = 0; i < count; ++i) matmul(*ws[i], biases[i], x, n_rows, ys[i]);
}

}  // namespace qlm::avx2
