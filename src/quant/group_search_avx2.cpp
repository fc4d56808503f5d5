// The search with AVX2 + FMA intrinsics (CPUs without AVX-512: AMD Zen 2/3), for groups of
// whole 8-float vectors (every MLX group size): group_search_avx512.cpp at 8 lanes. Weights and
// importances stay in L1 as vectors, horizontal sums fold in a fixed order. The generic build
// (baseline x86-64: no SSE4.1 `roundps`, so a libm rint per element) converted a 7B checkpoint
// at 19 MB/s here. quantizer.cpp calls this on CPUs with AVX2 + FMA but no AVX-512.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/affine.h"
#include "quant/group_search.h"
#include "quant/quantizer.h"

// Everything below is compiled for AVX2 + FMA (the pragma, not -m flags: see
// src/kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma")

namespace qlm::avx2 {

namespace {

constexpr int kMaxVectors = kMaxSearchGroup / 8;

inline float hsum(__m256 v) {
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

struct Group {
  int nv;  // vectors of 8
  __m256 w[kMaxVectors], h[kMaxVectors];
  float levels;
};

// q = clamp(rint((w - b) / s), 0, levels), via the reciprocal (the error is judged on these
// very codes, so the rare tie rounded the other way costs nothing).
inline void codes_of(const Group& g, float s, float b, __m256* q) {
  const __m256 inv = _mm256_set1_ps(1.0f / s), vb = _mm256_set1_ps(b);
  const __m256 lv = _mm256_set1_ps(g.levels), zero = _mm256_setzero_ps();
  for (int v = 0; v < g.nv; ++v) {
    const __m256 r = _mm256_round_ps(_mm256_mul_ps(_mm256_sub_ps(g.w[v], vb), inv),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q[v] = _mm256_min_ps(_mm256_max_ps(r, zero), lv);
  }
}

inline double error_of(const Group& g, float s, float b, const __m256* q) {
  const __m256 vs = _mm256_set1_ps(s), vb = _mm256_set1_ps(b);
  __m256 e = _mm256_setzero_ps();
  for (int v = 0; v < g.nv; ++v) {
    const __m256 d = _mm256_sub_ps(_mm256_fmadd_ps(vs, q[v], vb), g.w[v]);
    e = _mm256_fmadd_ps(_mm256_mul_ps(g.h[v], d), d, e);
  }
  return hsum(e);
}

inline bool refit(const Group& g, const __m256* q, float* s, float* b) {
  __m256 sw = _mm256_setzero_ps(), sq = sw, sqq = sw, sx = sw, sqx = sw;
  for (int v = 0; v < g.nv; ++v) {
    const __m256 hq = _mm256_mul_ps(g.h[v], q[v]);
    sw = _mm256_add_ps(sw, g.h[v]);
    sq = _mm256_add_ps(sq, hq);
    sqq = _mm256_fmadd_ps(hq, q[v], sqq);
    sx = _mm256_fmadd_ps(g.h[v], g.w[v], sx);
    sqx = _mm256_fmadd_ps(hq, g.w[v], sqx);
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
  if (n % 8 != 0 || n > kMaxSearchGroup) return generic::search_group(w, importance, n, bits, dt, thorough, best_q);
  Group g;
  g.nv = n / 8;
  g.levels = static_cast<float>((1 << bits) - 1);
  __m256 lo = _mm256_set1_ps(INFINITY), hi = _mm256_set1_ps(-INFINITY);
  for (int v = 0; v < g.nv; ++v) {
    g.w[v] = _mm256_loadu_ps(w + 8 * v);
    g.h[v] = importance ? _mm256_loadu_ps(importance + 8 * v) : _mm256_set1_ps(1.0f);
    lo = _mm256_min_ps(lo, g.w[v]);
    hi = _mm256_max_ps(hi, g.w[v]);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, lo);
  const float wmin = *std::min_element(lanes, lanes + 8);
  _mm256_store_ps(lanes, hi);
  const float wmax = *std::max_element(lanes, lanes + 8);

  SearchResult best{0.0f, 0.0f};
  double best_err = INFINITY;
  __m256 q[kMaxVectors], best_codes[kMaxVectors];
  for (int v = 0; v < g.nv; ++v) best_codes[v] = _mm256_setzero_ps();
  auto consider = [&](float s, float b) {  // judged after rounding (s, b) to the storage type
    s = round_to_dtype(s, dt);
    b = round_to_dtype(b, dt);
    if (!std::isfinite(s) || !std::isfinite(b)) return;
    if (s != 0.0f) codes_of(g, s, b, q);
    else
      for (int v = 0; v < g.nv; ++v) q[v] = _mm256_setzero_ps();
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
  alignas(32) int32_t codes[8];
  for (int v = 0; v < g.nv; ++v) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(codes), _mm256_cvtps_epi32(best_codes[v]));
    for (int i = 0; i < 8; ++i) best_q[8 * v + i] = static_cast<uint8_t>(codes[i]);
  }
  return best;
}

}  // namespace qlm::avx2
