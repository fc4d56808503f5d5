// GQA attention for one query row and one KV head, and SiLU·mul, on AVX2 (see
// KernelTable::attend). The AVX-512 kernel's scheme at 8 lanes: K arrives in blocks of 16 keys,
// dimension-major, so a block's scores are lane-wise FMA chains over the dimensions (two
// vectors per dimension, q[i] broadcast), and each K/V load serves up to 4 query heads of the
// group. A key's score depends only on q and that key; sums run in an order fixed by n_keys.
// Lanes of the last K block past n_keys hold anything: their scores land in the row's padding
// (rows are whole blocks long) and are never read.
#include "kernels/avx2/avx2.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/attention_dispatch.h"
#include "kernels/attention_prefetch.h"
#include "kernels/kernel_table.h"

// Everything below is compiled for AVX2 + FMA + F16C (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c")

#include "kernels/avx2/vec_exp_avx2.h"

namespace qlm::avx2 {

namespace {

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// scores[h0 + h][p0 .. p0+16) for NH query heads from one K block kb ([HD][16]).
template <int HD, int NH, class E>
void score_heads(const AttentionHead& a, const E* kb, int h0, int p0, int ld) {
  constexpr int C = NH >= 3 ? 1 : NH == 2 ? 2 : 4;  // independent chains per head
  const float* q = a.q + h0 * HD;
  __m256 acc[C][NH][2];
  for (int c = 0; c < C; ++c)
    for (int h = 0; h < NH; ++h) acc[c][h][0] = acc[c][h][1] = _mm256_setzero_ps();
  for (int i = 0; i < HD; i += C) {
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const __m256 k0 = load8(kb + (i + c) * 16), k1 = load8(kb + (i + c) * 16 + 8);
      for (int h = 0; h < NH; ++h) {
        const __m256 qv = _mm256_set1_ps(q[h * HD + i + c]);
        acc[c][h][0] = _mm256_fmadd_ps(qv, k0, acc[c][h][0]);
        acc[c][h][1] = _mm256_fmadd_ps(qv, k1, acc[c][h][1]);
      }
    }
  }
  // All 16 lanes are stored: a row of scores is padded to whole blocks (ld), and lanes past
  // n_keys are never read.
  const __m256 scale = _mm256_set1_ps(a.scale);
  for (int h = 0; h < NH; ++h) {
    float* out = a.scores + (h0 + h) * ld + p0;
    for (int half = 0; half < 2; ++half) {
      __m256 dot = acc[0][h][half];
      for (int c = 1; c < C; ++c) dot = _mm256_add_ps(dot, acc[c][h][half]);
      _mm256_storeu_ps(out + 8 * half, _mm256_mul_ps(dot, scale));
    }
  }
}

template <int HD, class E>
void score_block(const AttentionHead& a, const E* kb, int h0, int nh, int p0, int ld) {
  switch (nh) {
    case 1: return score_heads<HD, 1>(a, kb, h0, p0, ld);
    case 2: return score_heads<HD, 2>(a, kb, h0, p0, ld);
    case 3: return score_heads<HD, 3>(a, kb, h0, p0, ld);
    default: return score_heads<HD, 4>(a, kb, h0, p0, ld);
  }
}

// In place: e[p] = exp(s[p] - max) for p < n; returns 1 / Σ e (lane sums folded in fixed order).
float exp_and_inverse_sum(float* s, int n) {
  float top = s[0];
  int p = 0;
  if (n >= 8) {
    __m256 mx = _mm256_loadu_ps(s);
    for (p = 8; p + 8 <= n; p += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + p));
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, mx);
    for (float l : lanes) top = std::max(top, l);
  }
  for (; p < n; ++p) top = std::max(top, s[p]);
  const __m256 m = _mm256_set1_ps(top);
  __m256 sum = _mm256_setzero_ps();
  for (p = 0; p + 8 <= n; p += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + p), m));
    _mm256_storeu_ps(s + p, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (p < n) {  // the tail through a padded copy; its unused lanes add 0
    alignas(32) float t[8];
    std::fill_n(t, 8, top);
    std::copy(s + p, s + n, t);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_load_ps(t), m));
    _mm256_store_ps(t, e);
    std::copy_n(t, n - p, s + p);
    std::fill(t + (n - p), t + 8, 0.0f);
    sum = _mm256_add_ps(sum, _mm256_load_ps(t));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  double total = 0.0;  // fixed order, in double like the reference
  for (float l : lanes) total += l;
  return static_cast<float>(1.0 / total);
}

// out[h][c0 .. c0+16) += Σ_{p0 <= p < p1} e[h][p] · v[p][c0 .. c0+16) for NH heads from h0,
// unnormalised; the first chunk (p0 == 0) starts from zero. Each lane's FMAs run in key order
// whatever the chunking, so the sums are those of one pass over all keys.
template <int NH, class E>
void pv_chunk(const AttentionHead& a, const KvView<E>& kv, int h0, int c0, int ld, int p0, int p1) {
  __m256 acc[NH][2];
  for (int h = 0; h < NH; ++h) {
    const float* out = a.out + (h0 + h) * a.head_dim + c0;
    acc[h][0] = p0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(out);
    acc[h][1] = p0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(out + 8);
  }
  const float* e = a.scores + h0 * ld;
  const E* v = value_row(a, kv, p0) + c0;  // a chunk never crosses a span
  for (int p = p0; p < p1; ++p, v += a.v_stride) {
    const __m256 v0 = load8(v), v1 = load8(v + 8);
    for (int h = 0; h < NH; ++h) {
      const __m256 w = _mm256_set1_ps(e[h * ld + p]);
      acc[h][0] = _mm256_fmadd_ps(w, v0, acc[h][0]);
      acc[h][1] = _mm256_fmadd_ps(w, v1, acc[h][1]);
    }
  }
  for (int h = 0; h < NH; ++h) {
    float* out = a.out + (h0 + h) * a.head_dim + c0;
    _mm256_storeu_ps(out, acc[h][0]);
    _mm256_storeu_ps(out + 8, acc[h][1]);
  }
}

template <class E>
void pv(const AttentionHead& a, const KvView<E>& kv, int h0, int nh, int c0, int ld, int p0, int p1) {
  switch (nh) {
    case 1: return pv_chunk<1>(a, kv, h0, c0, ld, p0, p1);
    case 2: return pv_chunk<2>(a, kv, h0, c0, ld, p0, p1);
    case 3: return pv_chunk<3>(a, kv, h0, c0, ld, p0, p1);
    default: return pv_chunk<4>(a, kv, h0, c0, ld, p0, p1);
  }
}

// Keys per P·V chunk: the chunk's V rows (64 x head_dim values, 16 KB at head_dim 64 in F32)
// stay in L1 while every head group and column slice passes over them, so V comes from memory
// once, not once per (head group, column slice): 8 times at group 7, head_dim 64.
constexpr int kPvChunk = 64;
static_assert(kKvSpan % kPvChunk == 0, "a P·V chunk must not cross a KV span");

template <int HD, class E>
void attend_typed(const AttentionHead& a) {
  const KvView<E> kv = kv_view(a, E{});
  const int n = a.n_keys;
  const int ld = (n + 15) / 16 * 16;
  for (int p0 = 0; p0 < n; p0 += 16) {
    const E* kb = key_block(a, kv, p0);
    if (p0 + kAttentionPrefetchKeys < n) prefetch_lines(key_block(a, kv, p0 + kAttentionPrefetchKeys), HD * 16 * sizeof(E));
    for (int h0 = 0; h0 < a.group; h0 += 4) score_block<HD>(a, kb, h0, std::min(4, a.group - h0), p0, ld);
  }
  float inv[64];
  for (int h = 0; h < a.group; ++h) inv[h] = exp_and_inverse_sum(a.scores + h * ld, n);
  for (int p0 = 0; p0 < n; p0 += kPvChunk) {
    const int p1 = std::min(n, p0 + kPvChunk);
    if (p1 < n) {  // the next chunk's V rows (the next chunk never crosses a span either)
      const E* next = value_row(a, kv, p1);
      for (int p = p1; p < std::min(n, p1 + kPvChunk); ++p, next += a.v_stride) prefetch_lines(next, HD * sizeof(E));
    }
    for (int h0 = 0; h0 < a.group; h0 += 4)
      for (int c0 = 0; c0 < HD; c0 += 16) pv(a, kv, h0, std::min(4, a.group - h0), c0, ld, p0, p1);
  }
  for (int h = 0; h < a.group; ++h) {  // the normalisation by 1 / Σ e, one multiply per value
    const __m256 s = _mm256_set1_ps(inv[h]);
    for (int c = 0; c < HD; c += 8) _mm256_storeu_ps(a.out + h * HD + c, _mm256_mul_ps(_mm256_loadu_ps(a.out + h * HD + c), s));
  }
}

}  // namespace

void attend(const AttentionHead& a) {
  dispatch_attention(a, [&](auto hd, auto element) { attend_typed<decltype(hd)::value, decltype(element)>(a); });
}

// Every element through the same vector arithmetic (the tail via a padded copy): an element's
// result must not depend on where the batch ends.
namespace {
inline __m256 silu_mul8(__m256 g, __m256 u) {
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}
}  // namespace

void silu_mul(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gate + i, silu_mul8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < n) {
    alignas(32) float g[8] = {}, u[8] = {};
    std::copy(gate + i, gate + n, g);
    std::copy(up + i, up + n, u);
    _mm256_store_ps(g, silu_mul8(_mm256_load_ps(g), _mm256_load_ps(u)));
    std::copy_n(g, n - i, gate + i);
  }
}

}  // namespace qlm::avx2
