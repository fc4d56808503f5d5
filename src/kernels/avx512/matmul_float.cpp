// F32 / F16 / BF16 weights × F32 activations with AVX-512 FMA. Products are exact in F32
// (bf16/f16 widen losslessly), so no activation rounding; each output is one row's fixed-order
// sum (4 accumulators over 64-element steps, then a fixed reduction tree). Four activation rows
// share each widened weight vector (dot4_rows: same order per row, so a row's result does not
// depend on its batch): BF16 pp256 on the 0.5B shape x1.30 (Zen 5, 4 of 4 alternating rounds;
// the widening shift takes an FMA pipe, once per four rows instead of once per row).
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

// (a0 + a1) + (a2 + a3), then _mm512_reduce_add_ps's order written out (the intrinsic warns on
// its own header under a target pragma): halves 256, then 128, then lanes {0,2} + {1,3}.
inline float reduce_in_order(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  alignas(64) float l[16];
  _mm512_store_ps(l, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  float t[8];
  for (int i = 0; i < 8; ++i) t[i] = l[i + 8] + l[i];
  for (int i = 0; i < 4; ++i) t[i] = t[i + 4] + t[i];
  return (t[0] + t[2]) + (t[1] + t[3]);
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
  return reduce_in_order(a0, a1, a2, a3);
}

// dot_row for activation rows x, x + cols, x + 2·cols, x + 3·cols into out[0..4): each row's
// accumulators, steps and reduction exactly as dot_row's (so equal results), the weights
// loaded and widened once for the four.
template <DType T>
void dot4_rows(const uint8_t* row, const float* x, int64_t cols, float* out) {
  // Named accumulators, not an array: GCC 12 kept a [4][4] array of them in memory.
  const float *x0 = x, *x1 = x + cols, *x2 = x + 2 * cols, *x3 = x + 3 * cols;
  __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00,
         a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
  auto four = [](__m512 wv, int64_t at, const float* p0, const float* p1, const float* p2, const float* p3,
                 __m512& t0, __m512& t1, __m512& t2, __m512& t3) {
    t0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p0 + at), t0);
    t1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p1 + at), t1);
    t2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p2 + at), t2);
    t3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p3 + at), t3);
  };
  const __mmask16 all = 0xFFFF;
  int64_t c = 0;
  for (; c + 64 <= cols; c += 64) {
    four(load16<T>(row, c, all), c, x0, x1, x2, x3, a00, a10, a20, a30);
    four(load16<T>(row, c + 16, all), c + 16, x0, x1, x2, x3, a01, a11, a21, a31);
    four(load16<T>(row, c + 32, all), c + 32, x0, x1, x2, x3, a02, a12, a22, a32);
    four(load16<T>(row, c + 48, all), c + 48, x0, x1, x2, x3, a03, a13, a23, a33);
  }
  for (; c < cols; c += 16) {
    const __mmask16 m = cols - c >= 16 ? all : static_cast<__mmask16>((1u << (cols - c)) - 1);
    const __m512 wv = load16<T>(row, c, m);
    a00 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x0 + c), a00);
    a10 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x1 + c), a10);
    a20 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x2 + c), a20);
    a30 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x3 + c), a30);
  }
  out[0] = reduce_in_order(a00, a01, a02, a03);
  out[1] = reduce_in_order(a10, a11, a12, a13);
  out[2] = reduce_in_order(a20, a21, a22, a23);
  out[3] = reduce_in_order(a30, a31, a32, a33);
}

}  // namespace

void matmul_float(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  float_matmul(
      w, bias, x, n_rows, y,
      [](auto type, const uint8_t* row, const float* xr, int64_t cols) { return dot_row<decltype(type)::value>(row, xr, cols); },
      [](auto type, const uint8_t* row, const float* xr, int64_t cols, float* out) {
        dot4_rows<decltype(type)::value>(row, xr, cols, out);
      });
}

}  // namespace qlm::avx512
