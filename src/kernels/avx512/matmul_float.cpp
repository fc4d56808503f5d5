// F32 / F16 / BF16 weights × F32 activations with AVX-512 FMA. Products are exact in F32
// (bf16/f16 widen losslessly), so no activation rounding; each output is one row's fixed-order
// sum (4 accumulators over 64-element steps, then a fixed reduction tree).
#include <immintrin.h>

#include "kernels/avx512/avx512.h"
#include "kernels/float_rows.h"

// Everything below is compiled for AVX-512 F/BW/VL/VNNI/BF16 (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16")

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
  // _mm512_reduce_add_ps's order, written out (the intrinsic warns on its own header under a
  // target pragma): halves 256, then 128, then lanes {0,2} + {1,3}.
  alignas(64) float l[16];
  _mm512_store_ps(l, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  float t[8];
  for (int i = 0; i < 8; ++i) t[i] = l[i + 8] + l[i];
  for (int i = 0; i < 4; ++i) t[i] = t[i + 4] + t[i];
  return (t[0] + t[2]) + (t[1] + t[3]);
}

}  // namespace

void matmul_float(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  float_matmul(w, bias, x, n_rows, y, [](auto type, const uint8_t* row, const float* xr, int64_t cols) {
    return dot_row<decltype(type)::value>(row, xr, cols);
  });
}

}  // namespace qlm::avx512
