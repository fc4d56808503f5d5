// q4/q8 affine weights (MLX layout, read in place) × int8 activations with AVX-512 VNNI
// (q8: two int8 levels, q_x = 256·q1 + q2; see act_quant.h).
// Per output y[m][r], with exact integer group sums S_g = Σ q_w·q_x and X_g = Σ q_x:
//   acc = 0; for g in order: acc = fma(d_x[g], fma(b_w[g], X_g, s_w[g]·S_g), acc);  y = acc + bias
// Every path (any thread count, batch size, AMX) evaluates exactly this, so results match bit
// for bit. Weights are read as 16-row blocks × 64-byte chunks; each block is reused from cache
// for all activation rows of the call.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/half.h"
#include "kernels/avx512/act_quant.h"
#include "kernels/avx512/avx512.h"
#include "kernels/block_chunks.h"
#include "quant/blocked_params.h"
#include "quant/weight_matrix.h"

// Everything below is compiled for AVX-512 F/BW/VL/VNNI/BF16 (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16")

#include "kernels/avx512/int8_block.h"

namespace qlm::avx512 {

namespace {

// From this many activation rows on, packing each block once (gemm_int8.cpp) beats running
// the GEMV block per row (0.5B, batched decode, alternating binaries: q4 ×2 97 vs 84 tok/s on
// the GEMV, ×3 level, ×4 126 vs 139; q8 level at ×2, ×3 68 vs 79).
inline int64_t gemm_min_rows(int bits) {
  return bits == 4 ? 3 : 2;
}

// 16 int32 vectors (one per weight row, lanes = partial sums over 4 bytes) -> 4 vectors, one
// per 16-byte quarter of the chunk, lane i = that quarter's sum for row i.
inline void reduce_rows(const __m512i a[16], __m512i out[4]) {
  __m512i u[8], v[4];
  for (int i = 0; i < 8; ++i)  // per 128-bit block: [r0 q0+q2, r1 q0+q2, r0 q1+q3, r1 q1+q3]
    u[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(a[2 * i], a[2 * i + 1]),
                            _mm512_unpackhi_epi32(a[2 * i], a[2 * i + 1]));
  for (int j = 0; j < 4; ++j)  // per 128-bit block k: quarter k of rows 4j .. 4j+3
    v[j] = _mm512_add_epi32(_mm512_unpacklo_epi64(u[2 * j], u[2 * j + 1]),
                            _mm512_unpackhi_epi64(u[2 * j], u[2 * j + 1]));
  const __m512i t0 = _mm512_shuffle_i32x4(v[0], v[1], _MM_SHUFFLE(1, 0, 1, 0));
  const __m512i t1 = _mm512_shuffle_i32x4(v[0], v[1], _MM_SHUFFLE(3, 2, 3, 2));
  const __m512i t2 = _mm512_shuffle_i32x4(v[2], v[3], _MM_SHUFFLE(1, 0, 1, 0));
  const __m512i t3 = _mm512_shuffle_i32x4(v[2], v[3], _MM_SHUFFLE(3, 2, 3, 2));
  out[0] = _mm512_shuffle_i32x4(t0, t2, _MM_SHUFFLE(2, 0, 2, 0));
  out[1] = _mm512_shuffle_i32x4(t0, t2, _MM_SHUFFLE(3, 1, 3, 1));
  out[2] = _mm512_shuffle_i32x4(t1, t3, _MM_SHUFFLE(2, 0, 2, 0));
  out[3] = _mm512_shuffle_i32x4(t1, t3, _MM_SHUFFLE(3, 1, 3, 1));
}

// One 16-row block × one activation row. rows[i] points at weight row i of the block.
template <int kBits>
void block_one_row(const BlockParams& p, const uint8_t* const rows[16], const int8_t* xq,
                   int64_t level_bytes, const float* xd, const float* xs, const float* sT,
                   const float* bT, float* acc_out) {
  const int quarters_per_group = p.group_bytes / 16;
  const __m512i nib = _mm512_set1_epi8(0x0F);
  __m512 acc = _mm512_setzero_ps();
  __m512i gsum = _mm512_setzero_si512();
  int64_t g = 0;
  int q_in_group = 0;
  for (int64_t c = 0; c < p.chunks; ++c) {
    const bool last = c == p.chunks - 1;
    const __mmask64 mask = last ? p.tail_mask : ~__mmask64(0);
    // Prefetch each row 512 bytes ahead (8 KB for the block), running into the next block's
    // rows near the end of these (the block is contiguous, and its short rows are too short
    // for the hardware prefetcher to ramp up on). A whole block ahead, as before, put long
    // rows' lines (7B: 16 x 9.5 KB) into L1 too early to survive: 7B q4 decode 5.6 -> 6.0 tok/s.
    constexpr int64_t kAhead = 512;
    const int64_t dist = std::min(p.row_bytes, kAhead);
    const int64_t off = c * 64 + dist;
    const int64_t pf = off < p.row_bytes ? off : 16 * p.row_bytes + (off - p.row_bytes);
    for (int i = 0; i < 16; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(rows[i] + pf), _MM_HINT_T0);
    __m512i a[16];
    if constexpr (kBits == 4) {
      const __m512i xlo = _mm512_loadu_si512(xq + c * 128);
      const __m512i xhi = _mm512_loadu_si512(xq + c * 128 + 64);
      for (int i = 0; i < 16; ++i) {
        const __m512i wv = _mm512_maskz_loadu_epi8(mask, rows[i] + c * 64);
        const __m512i lo = _mm512_and_si512(wv, nib);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(wv, 4), nib);
        a[i] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, xlo), hi, xhi);
      }
    } else {  // two activation levels: lanes hold 256·Σ w·q1 + Σ w·q2 (exact, see act_quant.h)
      const __m512i x1 = _mm512_loadu_si512(xq + c * 64);
      const __m512i x2 = _mm512_loadu_si512(xq + level_bytes + c * 64);
      for (int i = 0; i < 16; ++i) {
        const __m512i wv = _mm512_maskz_loadu_epi8(mask, rows[i] + c * 64);
        // (A byte-shuffle shift on port 5 instead of slli measured the same.)
        a[i] = _mm512_dpbusd_epi32(
            _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, x1), 8), wv, x2);
      }
    }
    __m512i qs[4];
    reduce_rows(a, qs);
    const int n_q = last ? p.tail_quarters : 4;
    for (int k = 0; k < n_q; ++k) {
      gsum = _mm512_add_epi32(gsum, qs[k]);
      if (++q_in_group == quarters_per_group) {
        acc = combine_group(acc, gsum, sT + g * 16, bT + g * 16, xd[g], xs[g]);
        gsum = _mm512_setzero_si512();
        q_in_group = 0;
        ++g;
      }
    }
  }
  _mm512_storeu_ps(acc_out, acc);
}

}  // namespace

void int8_blocks(const WeightMatrix& w, const float* bias, const QuantizedActs& acts,
                 int64_t n_rows, float* y, int64_t blk_begin, int64_t blk_end) {
  // The interleaved copy needs no packing: the tiles serve every row count, one row included.
  if (w.interleaved_codes || n_rows >= gemm_min_rows(w.bits))
    return int8_gemm_blocks(w, bias, acts, n_rows, y, blk_begin, blk_end);
  const BlockParams p = block_params(w);
  thread_local std::vector<float> sb;  // [2][groups][16] transposed scales, biases
  for (int64_t blk = blk_begin; blk < blk_end; ++blk) {
    const int64_t r0 = blk * 16;
    const uint8_t* rows[16];
    block_setup(w, p, r0, rows, sb);
    const float* sT = sb.data();
    const float* bT = sb.data() + p.groups * 16;
    const int n_valid = static_cast<int>(std::min<int64_t>(16, w.rows - r0));
    const __mmask16 out_mask = static_cast<__mmask16>((1u << n_valid) - 1);
    for (int64_t m = 0; m < n_rows; ++m) {
      alignas(64) float acc[16];
      const float* xd = acts.d.data() + m * acts.groups;
      const float* xs = acts.sum.data() + m * acts.groups;
      if (w.bits == 4)
        block_one_row<4>(p, rows, acts.row(m), acts.level_bytes, xd, xs, sT, bT, acc);
      else
        block_one_row<8>(p, rows, acts.row(m), acts.level_bytes, xd, xs, sT, bT, acc);
      store_outputs(acc, bias, r0, out_mask, y + m * w.rows);
    }
  }
}

void matmul_int8_multi(const WeightMatrix* const* ws, const float* const* biases, int count,
                       const float* x, int64_t n_rows, float* const* ys) {
  thread_local QuantizedActs tls_acts;  // grown once per calling thread
  quantize_acts(x, n_rows, ws[0]->cols, ws[0]->group_size, ws[0]->bits, tls_acts);
  // Inside the team a thread_local name would mean each worker's own copy: share by pointer.
  const QuantizedActs* const acts = &tls_acts;
  for_block_chunks(ws, count, n_rows, [&](int i, int64_t begin, int64_t end) {
    int8_blocks(*ws[i], biases[i], *acts, n_rows, ys[i], begin, end);
  });
}

void matmul_int8(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  const WeightMatrix* const ws[1] = {&w};
  matmul_int8_multi(ws, &bias, 1, x, n_rows, &y);
}

}  // namespace qlm::avx512
