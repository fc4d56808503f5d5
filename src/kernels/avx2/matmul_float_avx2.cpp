// F32 / F16 / BF16 weights × F32 activations with AVX2 FMA (the AVX-512 float kernel at 8
// lanes). Products are exact in F32 (bf16/f16 widen losslessly); each output is one row's
// fixed-order sum: 4 accumulators over 32-element steps, 8-element steps, a scalar tail, then a
// fixed reduction tree. No activation rounding.
#include "kernels/avx2/avx2.h"

#include <immintrin.h>

#include "base/half.h"
#include "kernels/float_rows.h"

// Everything below is compiled for AVX2 + FMA + F16C (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c")

namespace qlm::avx2 {

namespace {

template <DType T>
inline __m256 load8(const uint8_t* row, int64_t c) {
  if constexpr (T == DType::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c);
  } else {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + c));
    if constexpr (T == DType::BF16)
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    else
      return _mm256_cvtph_ps(h);
  }
}

template <DType T>
inline float load1(const uint8_t* row, int64_t c) {
  if constexpr (T == DType::F32) return reinterpret_cast<const float*>(row)[c];
  const uint16_t h = reinterpret_cast<const uint16_t*>(row)[c];
  if constexpr (T == DType::BF16) return bf16_to_float(h);
  return f16_to_float(h);
}

template <DType T>
float dot_row(const uint8_t* row, const float* x, int64_t cols) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t c = 0;
  for (; c + 32 <= cols; c += 32) {
    a0 = _mm256_fmadd_ps(load8<T>(row, c), _mm256_loadu_ps(x + c), a0);
    a1 = _mm256_fmadd_ps(load8<T>(row, c + 8), _mm256_loadu_ps(x + c + 8), a1);
    a2 = _mm256_fmadd_ps(load8<T>(row, c + 16), _mm256_loadu_ps(x + c + 16), a2);
    a3 = _mm256_fmadd_ps(load8<T>(row, c + 24), _mm256_loadu_ps(x + c + 24), a3);
  }
  for (; c + 8 <= cols; c += 8) a0 = _mm256_fmadd_ps(load8<T>(row, c), _mm256_loadu_ps(x + c), a0);
  alignas(32) float l[8];
  _mm256_store_ps(l, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float sum = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
  for (; c < cols; ++c) sum += load1<T>(row, c) * x[c];
  return sum;
}

}  // namespace

void matmul_float(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  float_matmul(w, bias, x, n_rows, y, [](auto type, const uint8_t* row, const float* xr, int64_t cols) {
    return dot_row<decltype(type)::value>(row, xr, cols);
  });
}

}  // namespace qlm::avx2
