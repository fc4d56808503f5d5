// Pieces shared by the int8 kernels (AVX-512 VNNI and AMX): per-matrix chunk geometry, the
// 16-row block set-up (row pointers, transposed scales/biases) and the fixed-order float
// combination of exact integer group sums. Include only from files built with AVX-512 flags.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/half.h"
#include "quant/blocked_params.h"
#include "quant/weight_matrix.h"

namespace qlm::avx512 {

struct BlockParams {
  int64_t row_bytes = 0, groups = 0, chunks = 0;  // chunks of 64 weight bytes per row
  int group_bytes = 0;                            // weight bytes per group (16 .. 128)
  __mmask64 tail_mask = 0;                        // valid bytes of the last chunk
  int tail_quarters = 0;                          // valid 16-byte quarters of the last chunk
};

inline BlockParams block_params(const WeightMatrix& w) {
  BlockParams p;
  p.row_bytes = static_cast<int64_t>(w.row_bytes());
  p.groups = w.groups_per_row();
  p.chunks = (p.row_bytes + 63) / 64;
  p.group_bytes = w.group_size * w.bits / 8;
  const int64_t tail = p.row_bytes - (p.chunks - 1) * 64;  // 16, 32, 48 or 64
  p.tail_mask = tail == 64 ? ~__mmask64(0) : ((__mmask64(1) << tail) - 1);
  p.tail_quarters = static_cast<int>(tail / 16);
  return p;
}

// 16 scales or biases (F32/F16/BF16, any alignment) from element o, widened to F32.
inline __m512 load_params16(DType t, const uint8_t* p, int64_t o, __mmask16 m) {
  if (t == DType::F32) return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(p) + o);
  const __m256i h = _mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(p) + o);
  if (t == DType::BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  return _mm512_cvtph_ps(h);
}

// 16×16 floats transposed in registers: 32 unpacks/shuffles inside 128-bit lanes, then 32
// 128-bit lane shuffles across registers.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0x88);
    t[4 + i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0xDD);
    t[8 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0x88);
    t[12 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0xDD);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xDD);
    r[4 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0x88);
    r[12 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0xDD);
  }
}

// Rows past the matrix end repeat the last row (their outputs are never stored).
// sb: [2][groups][16] = scales then biases, transposed so one load gives 16 rows' values.
inline void block_setup(const WeightMatrix& w, const BlockParams& p, int64_t r0,
                        const uint8_t* rows[16], std::vector<float>& sb) {
  const size_t need = static_cast<size_t>(2 * p.groups * 16);
  if (sb.size() < need) sb.resize(need);
  float* sT = sb.data();
  float* bT = sb.data() + p.groups * 16;
  int64_t r[16];
  for (int i = 0; i < 16; ++i) {
    r[i] = std::min(r0 + i, w.rows - 1);
    rows[i] = w.data + r[i] * p.row_bytes;
  }
  if (w.blocked_params) {  // regrouped at load time: widen each group's 16 + 16 values
    const uint8_t* blk = blocked_params_block(w, r0 / 16);
    for (int64_t g = 0; g < p.groups; ++g) {
      _mm512_storeu_ps(sT + g * 16, load_params16(w.float_dtype, blk, g * 32, 0xFFFF));
      _mm512_storeu_ps(bT + g * 16, load_params16(w.float_dtype, blk, g * 32 + 16, 0xFFFF));
    }
    return;
  }
  // 16 rows × 16 groups at a time, widened to F32 and transposed in registers (3× fewer
  // micro-ops than scattering each row with stride 16; the set-up is a large part of a
  // small GEMV or a small-batch AMX block).
  for (int64_t g = 0; g < p.groups; g += 16) {
    const int64_t n = std::min<int64_t>(16, p.groups - g);
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1);
    for (int table = 0; table < 2; ++table) {  // one at a time: 16 values + 16 temporaries fit the registers
      const uint8_t* src = table == 0 ? w.scales : w.biases;
      float* dst = table == 0 ? sT : bT;
      __m512 v[16];
      for (int i = 0; i < 16; ++i) v[i] = load_params16(w.float_dtype, src, r[i] * p.groups + g, m);
      transpose16(v);
      for (int64_t j = 0; j < n; ++j) _mm512_storeu_ps(dst + (g + j) * 16, v[j]);
    }
  }
}

// Brings block blk's load-time scales and biases (w.blocked_params) toward L1. They sit apart
// from the codes, so the codes' prefetch does not cover them, and block_setup's first load of
// each block missed (perf: ~70% of int8_gemm_blocks' own decode samples on that load).
// always_inline, and the loop written out: GCC 12 deletes a plain inline helper whose only
// effect is a prefetch (see pack_block in gemm_int8.cpp), and through this helper it deleted
// prefetch_lines' loop too (0 of its prefetches in the binary).
__attribute__((always_inline)) inline void prefetch_block_params(const WeightMatrix& w, int64_t blk) {
  if (!w.blocked_params) return;
  const char* base = reinterpret_cast<const char*>(blocked_params_block(w, blk));
  const size_t bytes = blocked_params_block_bytes(w);
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(base + off, _MM_HINT_T0);
}

// acc (16 rows) += d_x · (b_w · X + s_w · S): the one float order every int8 path uses.
inline __m512 combine_group(__m512 acc, __m512i isum, const float* s16, const float* b16, float xd,
                            float xs) {
  __m512 t = _mm512_mul_ps(_mm512_loadu_ps(s16), _mm512_cvtepi32_ps(isum));
  t = _mm512_fmadd_ps(_mm512_loadu_ps(b16), _mm512_set1_ps(xs), t);
  return _mm512_fmadd_ps(_mm512_set1_ps(xd), t, acc);
}

// y_row[r0 + i] = acc[i] + bias[r0 + i] for the valid rows of the block.
inline void store_outputs(const float* acc, const float* bias, int64_t r0, __mmask16 mask, float* y_row) {
  __m512 v = _mm512_loadu_ps(acc);
  if (bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, bias + r0));
  _mm512_mask_storeu_ps(y_row + r0, mask, v);
}

}  // namespace qlm::avx512
