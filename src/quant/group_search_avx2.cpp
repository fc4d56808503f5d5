// The search (group_search_simd.h) with AVX2 + FMA, 8 float lanes, for CPUs without AVX-512
// (AMD Zen 2/3). The generic build (baseline x86-64: no SSE4.1 `roundps`, so a libm rint per
// element) converted a 7B checkpoint at 19.6 MB/s there; this one is 4x faster.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

// Every header group_search_simd.h uses, included here, before the pragma: a std or project
// inline function first seen after it would be compiled for this ISA, and the linker may keep
// that copy for the whole program (see src/kernels/CMakeLists.txt).
#include "quant/affine.h"
#include "quant/group_search.h"
#include "quant/quantizer.h"

// Everything below is compiled for AVX2 + FMA (the pragma, not -m flags: see
// src/kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma")

#include "quant/group_search_simd.h"

namespace qlm::avx2 {

namespace {

struct Ops {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float f) { return _mm256_set1_ps(f); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V round_even(V v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static float hsum(V v) {
    const __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
  }
  static float hmin(V v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_min_ss(m, _mm_movehdup_ps(m)));
  }
  static float hmax(V v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
  }
  static void store_codes(V v, uint8_t* out) {  // 8 codes < 256: int32 -> uint16 -> uint8
    const __m256i c = _mm256_cvtps_epi32(v);
    const __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(w16, w16));
  }
};

}  // namespace

SearchResult search_group(const float* w, const float* importance, int n, int bits, DType dt, bool thorough,
                          uint8_t* best_q) {
  if (n % Ops::kLanes != 0 || n > kMaxSearchGroup)
    return generic::search_group(w, importance, n, bits, dt, thorough, best_q);
  return simd_search::search_group<Ops>(w, importance, n, bits, dt, thorough, best_q);
}

void rtn_group(const float* w, int n, int bits, uint8_t* codes, float* scale, float* bias) {
  if (n % Ops::kLanes != 0) return mlx_quantize_group(w, n, bits, codes, scale, bias);
  simd_search::rtn_group<Ops>(w, n, bits, codes, scale, bias);
}

}  // namespace qlm::avx2
