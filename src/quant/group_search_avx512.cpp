// The search (group_search_simd.h) with AVX-512 intrinsics, 16 float lanes, for groups of whole
// vectors (16..256 elements: all MLX group sizes); other sizes fall back to
// group_search_generic.cpp. quantizer.cpp calls it only on CPUs with AVX-512 F/BW/VL/DQ.
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

// Everything below is compiled for AVX-512 F/BW/VL/DQ + FMA (the pragma, not -m flags: see
// src/kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")

#include "quant/group_search_simd.h"

namespace qlm::avx512 {

namespace {

struct Ops {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float f) { return _mm512_set1_ps(f); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V round_even(V v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static float hsum(V v) {
    const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
  }
  // Through memory: GCC 12 warns that the _mm256_undefined_* inside _mm512_reduce_min/max_ps
  // and the extract intrinsics is used uninitialized.
  static float hmin(V v) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    return *std::min_element(lanes, lanes + 16);
  }
  static float hmax(V v) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    return *std::max_element(lanes, lanes + 16);
  }
  static void store_codes(V v, uint8_t* out) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)));
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

}  // namespace qlm::avx512
