// The search with AVX-512 intrinsics for groups of whole vectors (16..256 elements, all MLX
// group sizes): the group's weights and importances stay in registers/L1 as 16-float vectors,
// each candidate costs a few vector passes, and horizontal sums fold in a fixed order. Other
// sizes fall back to group_search_generic.cpp. quantizer.cpp calls it only on CPUs that have
// AVX-512 F/BW/VL/DQ.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/affine.h"
#include "quant/group_search.h"
#include "quant/quantizer.h"

// Everything below is compiled for AVX-512 F/BW/VL/DQ + FMA (the pragma, not -m flags: see
// src/kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")

namespace qlm::avx512 {

namespace {

inline float hsum(__m512 v) {
  const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

struct Group {
  int nv;            // vectors of 16
  __m512 w[16], h[16];
  float levels;
};

// q = clamp(rint((w - b) / s), 0, levels), via the reciprocal (the error is judged on these
// very codes, so the rare tie rounded the other way costs nothing).
inline void codes_of(const Group& g, float s, float b, __m512* q) {
  const __m512 inv = _mm512_set1_ps(1.0f / s), vb = _mm512_set1_ps(b);
  const __m512 lv = _mm512_set1_ps(g.levels), zero = _mm512_setzero_ps();
  for (int v = 0; v < g.nv; ++v) {
    const __m512 r = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_sub_ps(g.w[v], vb), inv),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q[v] = _mm512_min_ps(_mm512_max_ps(r, zero), lv);
  }
}

inline double error_of(const Group& g, float s, float b, const __m512* q) {
  const __m512 vs = _mm512_set1_ps(s), vb = _mm512_set1_ps(b);
  __m512 e = _mm512_setzero_ps();
  for (int v = 0; v < g.nv; ++v) {
    const __m512 d = _mm512_sub_ps(_mm512_fmadd_ps(vs, q[v], vb), g.w[v]);
    e = _mm512_fmadd_ps(_mm512_mul_ps(g.h[v], d), d, e);
  }
  return hsum(e);
}

inline bool refit(const Group& g, const __m512* q, float* s, float* b) {
  __m512 sw = _mm512_setzero_ps(), sq = sw, sqq = sw, sx = sw, sqx = sw;
  for (int v = 0; v < g.nv; ++v) {
    const __m512 hq = _mm512_mul_ps(g.h[v], q[v]);
    sw = _mm512_add_ps(sw, g.h[v]);
    sq = _mm512_add_ps(sq, hq);
    sqq = _mm512_fmadd_ps(hq, q[v], sqq);
    sx = _mm512_fmadd_ps(g.h[v], g.w[v], sx);
    sqx = _mm512_fmadd_ps(hq, g.w[v], sqx);
  }
  const double Sw = hsum(sw), Sq = hsum(sq), Sqq = hsum(sqq), Sx = hsum(sx), Sqx = hsum(sqx);
  const double det = Sw * Sqq - Sq * Sq;
  if (!(std::fabs(det) > 1e-12 * Sw * Sw)) return false;  // (nearly) all codes equal
  *s = static_cast<float>((Sw * Sqx - Sq * Sx) / det);
  *b = static_cast<float>((Sqq * Sx - Sq * Sqx) / det);
  return std::isfinite(*s) && std::isfinite(*b);
}

}  // namespace

SearchResult search_group(const float* w, const float* importance, int n, int bits, DType dt, bool thorough,
                          uint8_t* best_q) {
  if (n % 16 != 0 || n > kMaxSearchGroup) return generic::search_group(w, importance, n, bits, dt, thorough, best_q);
  Group g;
  g.nv = n / 16;
  g.levels = static_cast<float>((1 << bits) - 1);
  __m512 lo = _mm512_set1_ps(INFINITY), hi = _mm512_set1_ps(-INFINITY);
  for (int v = 0; v < g.nv; ++v) {
    g.w[v] = _mm512_loadu_ps(w + 16 * v);
    g.h[v] = importance ? _mm512_loadu_ps(importance + 16 * v) : _mm512_set1_ps(1.0f);
    lo = _mm512_min_ps(lo, g.w[v]);
    hi = _mm512_max_ps(hi, g.w[v]);
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, lo);
  const float wmin = *std::min_element(lanes, lanes + 16);
  _mm512_store_ps(lanes, hi);
  const float wmax = *std::max_element(lanes, lanes + 16);

  SearchResult best{0.0f, 0.0f};
  double best_err = INFINITY;
  __m512 q[16], best_codes[16];
  for (int v = 0; v < g.nv; ++v) best_codes[v] = _mm512_setzero_ps();
  auto consider = [&](float s, float b) {  // judged after rounding (s, b) to the storage type
    s = round_to_dtype(s, dt);
    b = round_to_dtype(b, dt);
    if (!std::isfinite(s) || !std::isfinite(b)) return;
    if (s != 0.0f) codes_of(g, s, b, q);
    else
      for (int v = 0; v < g.nv; ++v) q[v] = _mm512_setzero_ps();
    const double e = error_of(g, s, b, q);
    if (e < best_err) {
      best_err = e;
      best = {s, b};
      std::copy_n(q, g.nv, best_codes);
    }
  };
  // MLX's own result is always a candidate, so search never does worse than rtn.
  {
    float s, b;
    mlx_quantize_group(w, n, bits, best_q, &s, &b);
    consider(s, b);
  }
  if (wmax != wmin) {
    // The same grid as group_search_generic.cpp (see the measurements there).
    static constexpr float kShifts[3] = {0.0f, 0.5f, -0.5f};
    const int lo_step = thorough ? -4 : -2, hi_step = thorough ? 8 : 6, refits = thorough ? 3 : 1;
    const float range = wmax - wmin;
    for (int step = lo_step; step <= hi_step; ++step) {
      const float s = range / (g.levels + 0.25f * step);
      for (float shift : kShifts) {
        float si = s, bi = wmin + shift * s * 0.5f;
        for (int iter = 0; iter < refits; ++iter) {
          codes_of(g, si, bi, q);
          float s2, b2;
          if (!refit(g, q, &s2, &b2)) break;
          si = s2;
          bi = b2;
          consider(si, bi);
        }
      }
    }
  }
  for (int v = 0; v < g.nv; ++v)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(best_q + 16 * v), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(best_codes[v])));
  return best;
}

}  // namespace qlm::avx512
