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

// Rows past the matrix end repeat the last row (their outputs are never stored).
// sb: [2][groups][16] = scales then biases, transposed so one load gives 16 rows' values.
inline void block_setup(const WeightMatrix& w, const BlockParams& p, int64_t r0,
                        const uint8_t* rows[16], std::vector<float>& sb) {
  const size_t need = static_cast<size_t>(2 * p.groups * 16);
  if (sb.size() < need) sb.resize(need);
  float* sT = sb.data();
  float* bT = sb.data() + p.groups * 16;
  // Column i of the transposed tables takes 16 groups per step: widen, then scatter with
  // stride 16 (1.3-1.8x GEMV throughput over scalar transposition, measured).
  const __m512i stride16 = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                              _mm512_set1_epi32(16));
  for (int i = 0; i < 16; ++i) {
    const int64_t r = std::min(r0 + i, w.rows - 1);
    rows[i] = w.data + r * p.row_bytes;
    for (int64_t g = 0; g < p.groups; g += 16) {
      const __mmask16 m = p.groups - g >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (p.groups - g)) - 1);
      const int64_t o = r * p.groups + g;
      _mm512_mask_i32scatter_ps(sT + g * 16 + i, m, stride16, load_params16(w.float_dtype, w.scales, o, m), 4);
      _mm512_mask_i32scatter_ps(bT + g * 16 + i, m, stride16, load_params16(w.float_dtype, w.biases, o, m), 4);
    }
  }
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
