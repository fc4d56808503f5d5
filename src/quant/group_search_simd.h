// The per-group search (group_search.h) written once over a vector width: group_search_avx2.cpp
// and group_search_avx512.cpp include this after their `#pragma GCC target` and instantiate it
// with their Ops (8 or 16 float lanes). The group's weights and importances stay in L1 as
// vectors, each candidate costs a few vector passes, horizontal sums fold in a fixed order.
//
// Ops provides: V (the vector type), kLanes, zero(), set1(f), load(p), add, sub, mul, div,
// fmadd(a, b, c) = a·b + c, min, max, round_even(v), hsum(v) -> float, hmin / hmax(v) -> float,
// and store_codes(v, uint8_t* out) (kLanes codes, each < 256). The including file must include
// this header's includes itself before its pragma (see group_search_avx2.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "quant/affine.h"
#include "quant/group_search.h"
#include "quant/quantizer.h"

namespace qlm::simd_search {

template <class Ops>
struct Group {
  using V = typename Ops::V;
  static constexpr int kMaxVectors = kMaxSearchGroup / Ops::kLanes;
  int nv;
  V w[kMaxVectors], h[kMaxVectors];
  float levels;
};

// q = clamp(rint((w - b) / s), 0, levels), via the reciprocal (the error is judged on these
// very codes, so the rare tie rounded the other way costs nothing).
template <class Ops>
inline void codes_of(const Group<Ops>& g, float s, float b, typename Ops::V* q) {
  const auto inv = Ops::set1(1.0f / s), vb = Ops::set1(b), lv = Ops::set1(g.levels), zero = Ops::zero();
  for (int v = 0; v < g.nv; ++v) q[v] = Ops::min(Ops::max(Ops::round_even(Ops::mul(Ops::sub(g.w[v], vb), inv)), zero), lv);
}

template <class Ops>
inline double error_of(const Group<Ops>& g, float s, float b, const typename Ops::V* q) {
  const auto vs = Ops::set1(s), vb = Ops::set1(b);
  auto e = Ops::zero();
  for (int v = 0; v < g.nv; ++v) {
    const auto d = Ops::sub(Ops::fmadd(vs, q[v], vb), g.w[v]);
    e = Ops::fmadd(Ops::mul(g.h[v], d), d, e);
  }
  return Ops::hsum(e);
}

// mlx_quantize_group (affine.h) over vectors, bit for bit: the same float operations per
// element (a true division, not the reciprocal codes_of uses), and min / max folded in another
// order, which is exact for finite values (a -0 / +0 extreme changes neither scale nor bias).
// For n a multiple of Ops::kLanes.
template <class Ops>
void rtn_group(const float* w, int n, int bits, uint8_t* codes, float* scale, float* bias) {
  using V = typename Ops::V;
  const int nv = n / Ops::kLanes;
  V lo = Ops::set1(INFINITY), hi = Ops::set1(-INFINITY);
  for (int v = 0; v < nv; ++v) {
    const V x = Ops::load(w + Ops::kLanes * v);
    lo = Ops::min(lo, x);
    hi = Ops::max(hi, x);
  }
  mlx_scale_bias(Ops::hmin(lo), Ops::hmax(hi), bits, scale, bias);
  const V vs = Ops::set1(*scale), vb = Ops::set1(*bias), zero = Ops::zero();
  const V levels = Ops::set1(static_cast<float>((1 << bits) - 1));
  for (int v = 0; v < nv; ++v) {
    const V q = Ops::round_even(Ops::div(Ops::sub(Ops::load(w + Ops::kLanes * v), vb), vs));
    Ops::store_codes(Ops::min(Ops::max(q, zero), levels), codes + Ops::kLanes * v);
  }
}

// Weighted least-squares (s, b) for fixed codes: five sums in float lanes, the 2x2 solve in double.
template <class Ops>
inline bool refit(const Group<Ops>& g, const typename Ops::V* q, float* s, float* b) {
  auto sw = Ops::zero(), sq = sw, sqq = sw, sx = sw, sqx = sw;
  for (int v = 0; v < g.nv; ++v) {
    const auto hq = Ops::mul(g.h[v], q[v]);
    sw = Ops::add(sw, g.h[v]);
    sq = Ops::add(sq, hq);
    sqq = Ops::fmadd(hq, q[v], sqq);
    sx = Ops::fmadd(g.h[v], g.w[v], sx);
    sqx = Ops::fmadd(hq, g.w[v], sqx);
  }
  const double Sw = Ops::hsum(sw), Sq = Ops::hsum(sq), Sqq = Ops::hsum(sqq), Sx = Ops::hsum(sx), Sqx = Ops::hsum(sqx);
  const double det = Sw * Sqq - Sq * Sq;
  if (!(std::fabs(det) > 1e-12 * Sw * Sw)) return false;  // (nearly) all codes equal
  *s = static_cast<float>((Sw * Sqx - Sq * Sx) / det);
  *b = static_cast<float>((Sqq * Sx - Sq * Sqx) / det);
  return std::isfinite(*s) && std::isfinite(*b);
}

// group_search.h's search_group for n a multiple of Ops::kLanes, n <= kMaxSearchGroup.
template <class Ops>
SearchResult search_group(const float* w, const float* importance, int n, int bits, DType dt, bool thorough,
                          uint8_t* best_q) {
  using V = typename Ops::V;
  Group<Ops> g;
  g.nv = n / Ops::kLanes;
  g.levels = static_cast<float>((1 << bits) - 1);
  V lo = Ops::set1(INFINITY), hi = Ops::set1(-INFINITY);
  for (int v = 0; v < g.nv; ++v) {
    g.w[v] = Ops::load(w + Ops::kLanes * v);
    g.h[v] = importance ? Ops::load(importance + Ops::kLanes * v) : Ops::set1(1.0f);
    lo = Ops::min(lo, g.w[v]);
    hi = Ops::max(hi, g.w[v]);
  }
  const float wmin = Ops::hmin(lo), wmax = Ops::hmax(hi);

  SearchResult best{0.0f, 0.0f};
  double best_err = INFINITY;
  V q[Group<Ops>::kMaxVectors], best_codes[Group<Ops>::kMaxVectors];
  for (int v = 0; v < g.nv; ++v) best_codes[v] = Ops::zero();
  auto consider = [&](float s, float b) {  // judged after rounding (s, b) to the storage type
    s = round_to_dtype(s, dt);
    b = round_to_dtype(b, dt);
    if (!std::isfinite(s) || !std::isfinite(b)) return;
    if (s != 0.0f) codes_of(g, s, b, q);
    else
      for (int v = 0; v < g.nv; ++v) q[v] = Ops::zero();
    const double e = error_of(g, s, b, q);
    if (e < best_err) {
      best_err = e;
      best = {s, b};
      for (int v = 0; v < g.nv; ++v) best_codes[v] = q[v];
    }
  };
  // MLX's own result is always a candidate, so search never does worse than rtn.
  {
    float s, b;
    rtn_group<Ops>(w, n, bits, best_q, &s, &b);
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
  for (int v = 0; v < g.nv; ++v) Ops::store_codes(best_codes[v], best_q + Ops::kLanes * v);
  return best;
}

}  // namespace qlm::simd_search
