// GQA attention for one query row and one KV head on AVX-512 (see KernelTable::attend).
// Work per key block of 16: the block's K (16 x head_dim floats, in L1) serves every query head
// of the group, so K and V stream from the cache once per row instead of once per query head.
// Scores: per key a head_dim-long FMA chain into one 16-lane vector, then a fixed transpose-and-
// add tree turns 16 such vectors into the 16 keys' dot products. The tree for a key only ever
// sums that key's lanes, in the same order, so a key's score depends on nothing but q and k.
// Softmax: vector max, exp16, a lane-wise sum folded in a fixed order; normalisation after P·V.
// An F16 cache is read with vcvtph2ps (exact), so it runs the same arithmetic on its values.
#include <immintrin.h>

#include <algorithm>

#include "kernels/avx512/avx512.h"
#include "kernels/avx512/vec_exp.h"
#include "kernels/kernel_table.h"

namespace qlm::avx512 {

namespace {

// 16 cache values as floats (F32 as is, F16 widened exactly).
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// The cache rows of a head, in the cache's element type E.
template <class E>
struct KV {
  const E* k;
  const E* v;
};
inline KV<float> kv_of(const AttentionHead& a, float) { return {a.k, a.v}; }
inline KV<uint16_t> kv_of(const AttentionHead& a, uint16_t) { return {a.k_f16, a.v_f16}; }

// lane j of the result = sum of the 16 lanes of a[j].
inline __m512 transpose_sum16(const __m512 a[16]) {
  __m512 t[8];
  for (int i = 0; i < 8; ++i)
    t[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]), _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
  __m512 u[4];
  for (int i = 0; i < 4; ++i)
    u[i] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * i], t[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(t[2 * i], t[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  __m512 v[2];
  for (int i = 0; i < 2; ++i)
    v[i] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm512_add_ps(_mm512_shuffle_f32x4(v[0], v[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(v[0], v[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// scores[h][p0 .. p0+count) for every head of the group (count ≤ 16; missing keys count as 0).
template <int HD, class E>
void score_block(const AttentionHead& a, const KV<E>& kv, int p0, int count, int ld) {
  const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1u);
  for (int h = 0; h < a.group; ++h) {
    const float* q = a.q + h * HD;
    __m512 qv[HD / 16];
    for (int c = 0; c < HD / 16; ++c) qv[c] = _mm512_loadu_ps(q + 16 * c);
    __m512 acc[16];
    for (int j = 0; j < 16; ++j) {
      if (j >= count) {
        acc[j] = _mm512_setzero_ps();
        continue;
      }
      const E* k = kv.k + (p0 + j) * a.kv_stride;
      __m512 s = _mm512_mul_ps(qv[0], load16(k));
      for (int c = 1; c < HD / 16; ++c) s = _mm512_fmadd_ps(qv[c], load16(k + 16 * c), s);
      acc[j] = s;
    }
    const __m512 dots = _mm512_mul_ps(transpose_sum16(acc), _mm512_set1_ps(a.scale));
    _mm512_mask_storeu_ps(a.scores + h * ld + p0, mask, dots);
  }
}

// In place: e[p] = exp(s[p] - max) for p < n; returns 1 / Σ e (lane sums folded in fixed order).
float exp_and_inverse_sum(float* s, int n) {
  __m512 mx = _mm512_set1_ps(-3.0e38f);
  int p = 0;
  for (; p + 16 <= n; p += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + p));
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - p)) - 1u);
  if (tail) mx = _mm512_mask_max_ps(mx, tail, mx, _mm512_maskz_loadu_ps(tail, s + p));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, mx);  // (GCC 12's _mm512_reduce_max_ps warns on its own header)
  float top = lanes[0];
  for (float l : lanes) top = std::max(top, l);
  const __m512 m = _mm512_set1_ps(top);
  __m512 sum = _mm512_setzero_ps();
  for (p = 0; p + 16 <= n; p += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(s + p), m));
    _mm512_storeu_ps(s + p, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (tail) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, s + p), m));
    _mm512_mask_storeu_ps(s + p, tail, e);
    sum = _mm512_mask_add_ps(sum, tail, sum, e);
  }
  _mm512_store_ps(lanes, sum);
  double total = 0.0;  // fixed order, in double like the reference
  for (float l : lanes) total += l;
  return static_cast<float>(1.0 / total);
}

// out[h][c0 .. c0+32) = inv[h] · Σ_p e[h][p] · v[p][c0 .. c0+32) for NH heads starting at h0.
template <int NH, class E>
void pv_pass(const AttentionHead& a, const KV<E>& kv, int h0, int c0, int ld, const float* inv) {
  __m512 acc[NH][2];
  for (int h = 0; h < NH; ++h) acc[h][0] = acc[h][1] = _mm512_setzero_ps();
  const float* e = a.scores + h0 * ld;
  for (int p = 0; p < a.n_keys; ++p) {
    const E* v = kv.v + p * a.kv_stride + c0;
    const __m512 v0 = load16(v), v1 = load16(v + 16);
    for (int h = 0; h < NH; ++h) {
      const __m512 w = _mm512_set1_ps(e[h * ld + p]);
      acc[h][0] = _mm512_fmadd_ps(w, v0, acc[h][0]);
      acc[h][1] = _mm512_fmadd_ps(w, v1, acc[h][1]);
    }
  }
  for (int h = 0; h < NH; ++h) {
    float* out = a.out + (h0 + h) * a.head_dim + c0;
    const __m512 s = _mm512_set1_ps(inv[h0 + h]);
    _mm512_storeu_ps(out, _mm512_mul_ps(acc[h][0], s));
    _mm512_storeu_ps(out + 16, _mm512_mul_ps(acc[h][1], s));
  }
}

template <class E>
void pv(const AttentionHead& a, const KV<E>& kv, int h0, int nh, int c0, int ld, const float* inv) {
  switch (nh) {
    case 1: return pv_pass<1>(a, kv, h0, c0, ld, inv);
    case 2: return pv_pass<2>(a, kv, h0, c0, ld, inv);
    case 3: return pv_pass<3>(a, kv, h0, c0, ld, inv);
    case 4: return pv_pass<4>(a, kv, h0, c0, ld, inv);
    case 5: return pv_pass<5>(a, kv, h0, c0, ld, inv);
    case 6: return pv_pass<6>(a, kv, h0, c0, ld, inv);
    case 7: return pv_pass<7>(a, kv, h0, c0, ld, inv);
    default: return pv_pass<8>(a, kv, h0, c0, ld, inv);
  }
}

template <int HD, class E>
void attend_typed(const AttentionHead& a) {
  const KV<E> kv = kv_of(a, E{});
  const int n = a.n_keys;
  const int ld = (n + 15) / 16 * 16;
  for (int p0 = 0; p0 < n; p0 += 16) score_block<HD>(a, kv, p0, std::min(16, n - p0), ld);
  float inv[64];
  for (int h = 0; h < a.group; ++h) inv[h] = exp_and_inverse_sum(a.scores + h * ld, n);
  for (int h0 = 0; h0 < a.group; h0 += 8)
    for (int c0 = 0; c0 < HD; c0 += 32) pv(a, kv, h0, std::min(8, a.group - h0), c0, ld, inv);
}

template <int HD>
void attend_hd(const AttentionHead& a) {
  return a.k_f16 != nullptr ? attend_typed<HD, uint16_t>(a) : attend_typed<HD, float>(a);
}

}  // namespace

void attend(const AttentionHead& a) {
  if (a.group > 64 || a.n_keys < 1) return ref::attend(a);
  switch (a.head_dim) {
    case 64: return attend_hd<64>(a);
    case 128: return attend_hd<128>(a);
    case 32: return attend_hd<32>(a);
    case 96: return attend_hd<96>(a);
    case 256: return attend_hd<256>(a);
    default: return ref::attend(a);  // other head sizes: the scalar reference
  }
}

// Vector everywhere, the tail masked: an element's result must not depend on where the batch
// ends (rows x intermediate size is rarely a multiple of 16 for every batch).
void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
    const __m512 s = _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, up + i)));
  }
}

}  // namespace qlm::avx512
