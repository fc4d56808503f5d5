// F32 / F16 / BF16 weights × F32 activations with AVX-512 FMA. Products are exact in F32
// (bf16/f16 widen losslessly), so no activation rounding; each output is one row's fixed-order
// sum (4 accumulators over 64-element steps, then a fixed reduction tree).
#include <immintrin.h>

#include <algorithm>

#include "kernels/avx512/avx512.h"

namespace qlm::avx512 {

namespace {

template <DType T>
inline __m512 load16(const uint8_t* row, int64_t c, __mmask16 m) {
  if constexpr (T == DType::F32) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + c);
  } else {
    const __m256i h = _mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + c);
    if constexpr (T == DType::BF16)
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    else
      return _mm512_cvtph_ps(h);
  }
}

template <DType T>
float dot_row(const uint8_t* row, const float* x, int64_t cols) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  const __mmask16 all = 0xFFFF;
  int64_t c = 0;
  for (; c + 64 <= cols; c += 64) {
    a0 = _mm512_fmadd_ps(load16<T>(row, c, all), _mm512_loadu_ps(x + c), a0);
    a1 = _mm512_fmadd_ps(load16<T>(row, c + 16, all), _mm512_loadu_ps(x + c + 16), a1);
    a2 = _mm512_fmadd_ps(load16<T>(row, c + 32, all), _mm512_loadu_ps(x + c + 32), a2);
    a3 = _mm512_fmadd_ps(load16<T>(row, c + 48, all), _mm512_loadu_ps(x + c + 48), a3);
  }
  for (; c < cols; c += 16) {
    const __mmask16 m = cols - c >= 16 ? all : static_cast<__mmask16>((1u << (cols - c)) - 1);
    a0 = _mm512_fmadd_ps(load16<T>(row, c, m), _mm512_maskz_loadu_ps(m, x + c), a0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

template <DType T>
void matmul_t(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  const int64_t cols = w.cols;
  const size_t rb = w.row_bytes();
  // Blocks of 8 rows: their bytes stay in L1 while every activation row passes over them.
  const int64_t n_blocks = (w.rows + 7) / 8;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    const int64_t r_end = std::min(w.rows, blk * 8 + 8);
    for (int64_t m = 0; m < n_rows; ++m)
      for (int64_t r = blk * 8; r < r_end; ++r)
        y[m * w.rows + r] = dot_row<T>(w.data + r * rb, x + m * cols, cols) + (bias ? bias[r] : 0.0f);
  }
}

}  // namespace

void matmul_float(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  switch (w.float_dtype) {
    case DType::BF16: return matmul_t<DType::BF16>(w, bias, x, n_rows, y);
    case DType::F16: return matmul_t<DType::F16>(w, bias, x, n_rows, y);
    default: return matmul_t<DType::F32>(w, bias, x, n_rows, y);
  }
}

}  // namespace qlm::avx512
