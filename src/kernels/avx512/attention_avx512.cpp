// GQA attention for one query row and one KV head on AVX-512 (see KernelTable::attend).
// K arrives in blocks of 16 keys, dimension-major (KVCache's layout): vector i of a block holds
// dimension i of its 16 keys, so the scores of 16 keys are lane-wise FMA chains over the
// dimensions, q[i] broadcast, with no horizontal sums. Each vector load serves every query
// head of the group (K and V stream from the cache once per row, not once per query head).
// A key's score is C partial chains over dimensions i = c (mod C), added in order: it depends
// on nothing but q and that key, never on the batch or the other keys.
// Softmax: vector max, exp16, a lane-wise sum folded in a fixed order; normalisation after P·V.
// P·V runs one pass over all keys per (8 heads, 32 columns): at head_dim 64 and 128 V is read 2
// and 4 times, from L2 on a 1 MB-L2 core; running the passes per 64-key chunk, as the AVX2
// kernel does for its 8 passes, measured 8-14% slower here (Zen 5, BM_Attend 2048 keys).
// An F16 cache is read with vcvtph2ps (exact), so it runs the same arithmetic on its values.
#include "kernels/avx512/avx512.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/attention_dispatch.h"
#include "kernels/attention_prefetch.h"
#include "kernels/kernel_table.h"

// Everything below is compiled for AVX-512 F/BW/VL/VNNI/BF16 (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16")

#include "kernels/avx512/vec_exp.h"

namespace qlm::avx512 {

namespace {

// 16 cache values as floats (F32 as is, F16 widened exactly); masked lanes read as 0.
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512 load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load16(const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }

// scores[h0 + h][p0 .. p0+count) for NH query heads from one K block kb ([HD][16]); lanes past
// count are loaded as 0 and not stored. C independent chains per head keep the FMA pipes busy
// when the group is small (one head: 8 chains).
template <int HD, int NH, class E>
void score_heads(const AttentionHead& a, const E* kb, int h0, int p0, int count, int ld) {
  constexpr int C = NH >= 4 ? 2 : NH >= 2 ? 4 : 8;
  const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1u);
  const float* q = a.q + h0 * HD;
  __m512 acc[C][NH];
  for (int c = 0; c < C; ++c)
    for (int h = 0; h < NH; ++h) acc[c][h] = _mm512_setzero_ps();
  for (int i = 0; i < HD; i += C) {
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const __m512 k = load16(kb + (i + c) * 16, mask);
      for (int h = 0; h < NH; ++h) acc[c][h] = _mm512_fmadd_ps(_mm512_set1_ps(q[h * HD + i + c]), k, acc[c][h]);
    }
  }
  for (int h = 0; h < NH; ++h) {
    __m512 dot = acc[0][h];
    for (int c = 1; c < C; ++c) dot = _mm512_add_ps(dot, acc[c][h]);
    _mm512_mask_storeu_ps(a.scores + (h0 + h) * ld + p0, mask, _mm512_mul_ps(dot, _mm512_set1_ps(a.scale)));
  }
}

template <int HD, class E>
void score_block(const AttentionHead& a, const E* kb, int h0, int nh, int p0, int count, int ld) {
  switch (nh) {
    case 1: return score_heads<HD, 1>(a, kb, h0, p0, count, ld);
    case 2: return score_heads<HD, 2>(a, kb, h0, p0, count, ld);
    case 3: return score_heads<HD, 3>(a, kb, h0, p0, count, ld);
    case 4: return score_heads<HD, 4>(a, kb, h0, p0, count, ld);
    case 5: return score_heads<HD, 5>(a, kb, h0, p0, count, ld);
    case 6: return score_heads<HD, 6>(a, kb, h0, p0, count, ld);
    case 7: return score_heads<HD, 7>(a, kb, h0, p0, count, ld);
    default: return score_heads<HD, 8>(a, kb, h0, p0, count, ld);
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
void pv_pass(const AttentionHead& a, const KvView<E>& kv, int h0, int c0, int ld, const float* inv) {
  __m512 acc[NH][2];
  for (int h = 0; h < NH; ++h) acc[h][0] = acc[h][1] = _mm512_setzero_ps();
  const float* e = a.scores + h0 * ld;
  for (int s = 0; s < a.n_keys; s += kKvSpan) {  // V rows are evenly spaced inside a span
    const E* vs = value_row(a, kv, s) + c0;
    const int end = std::min(a.n_keys, s + kKvSpan);
    // Rows 64 ahead, running into the next span's first rows near the end of this one.
    const E* next_span = end < a.n_keys ? value_row(a, kv, end) + c0 : nullptr;
    for (int p = s; p < end; ++p) {
      const E* v = vs + (p - s) * a.v_stride;
      const int ahead = p + kAttentionPrefetchKeys;
      if (ahead < end)
        prefetch_lines(v + kAttentionPrefetchKeys * a.v_stride, 32 * sizeof(E));
      else if (next_span != nullptr && ahead < a.n_keys)
        prefetch_lines(next_span + (ahead - end) * a.v_stride, 32 * sizeof(E));
      const __m512 v0 = load16(v), v1 = load16(v + 16);
      for (int h = 0; h < NH; ++h) {
        const __m512 w = _mm512_set1_ps(e[h * ld + p]);
        acc[h][0] = _mm512_fmadd_ps(w, v0, acc[h][0]);
        acc[h][1] = _mm512_fmadd_ps(w, v1, acc[h][1]);
      }
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
void pv(const AttentionHead& a, const KvView<E>& kv, int h0, int nh, int c0, int ld, const float* inv) {
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
  const KvView<E> kv = kv_view(a, E{});
  const int n = a.n_keys;
  const int ld = (n + 15) / 16 * 16;
  for (int p0 = 0; p0 < n; p0 += 16) {
    const E* kb = key_block(a, kv, p0);
    if (p0 + kAttentionPrefetchKeys < n) prefetch_lines(key_block(a, kv, p0 + kAttentionPrefetchKeys), HD * 16 * sizeof(E));
    for (int h0 = 0; h0 < a.group; h0 += 8)
      score_block<HD>(a, kb, h0, std::min(8, a.group - h0), p0, std::min(16, n - p0), ld);
  }
  float inv[64];
  for (int h = 0; h < a.group; ++h) inv[h] = exp_and_inverse_sum(a.scores + h * ld, n);
  for (int h0 = 0; h0 < a.group; h0 += 8)
    for (int c0 = 0; c0 < HD; c0 += 32) pv(a, kv, h0, std::min(8, a.group - h0), c0, ld, inv);
}

}  // namespace

void attend(const AttentionHead& a) {
  dispatch_attention(a, [&](auto hd, auto element) { attend_typed<decltype(hd)::value, decltype(element)>(a); });
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
