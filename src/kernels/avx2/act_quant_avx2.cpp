// Per-group int8 quantization of activation rows for the AVX2 kernels (see act_quant_avx2.h),
// with the AVX-512 path's exact operations in 8-lane form: the same max (operand order too), IEEE
// division, conversion under the default rounding mode (nearest, ties to even) and clamps.
// GCC left the plain C++ version scalar (nearbyint per element): 5% of a prefill.
#include "kernels/avx2/act_quant_avx2.h"

#include <immintrin.h>

#include <cstring>

// Everything below is compiled for AVX2 + FMA + F16C (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c")

namespace qlm::avx2 {

namespace {

inline float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

inline int hsum8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 1)));
}

// One group of n floats (n a multiple of 32). Returns Σq in units of *d_out. q4: even elements
// to q[j], odd ones to q[64 + j]; q8: int16 values to q16[i].
int quantize_group(const float* x, int n, int bits, float* d_out, int8_t* q, int16_t* q16) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 amax = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) amax = _mm256_max_ps(amax, _mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask));
  const float d = hmax8(amax) / 127.0f;
  *d_out = bits == 8 ? d * (1.0f / 256.0f) : d;
  if (d == 0.0f) {
    if (bits == 8) std::memset(q16, 0, sizeof(int16_t) * static_cast<size_t>(n));
    if (bits == 4) {
      std::memset(q, 0, static_cast<size_t>(n / 2));
      std::memset(q + 64, 0, static_cast<size_t>(n / 2));
    }
    return 0;
  }
  const __m256 vd = _mm256_set1_ps(d);
  const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
  // Division (not multiply by 1/d) so the spec is exactly rint(x / d), ties to even.
  auto scaled8 = [&](const float* p) { return _mm256_div_ps(_mm256_loadu_ps(p), vd); };
  auto round8 = [&](__m256 f) { return _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(f), lo), hi); };
  __m256i s = _mm256_setzero_si256();
  if (bits == 8) {
    // q2 = rint(256·(f - q1)): the residual and its scaling are exact (as avx512/act_quant.cpp).
    const __m256 k256 = _mm256_set1_ps(256.0f);
    for (int i = 0; i < n; i += 16) {
      __m256i v[2];
      for (int j = 0; j < 2; ++j) {
        const __m256 f = scaled8(x + i + 8 * j);
        const __m256i v1 = round8(f);
        const __m256 r = _mm256_mul_ps(_mm256_sub_ps(f, _mm256_cvtepi32_ps(v1)), k256);
        const __m256i v2 = _mm256_min_epi32(_mm256_cvtps_epi32(r), hi);  // 128 only at an exact tie
        v[j] = _mm256_add_epi32(_mm256_slli_epi32(v1, 8), v2);
        s = _mm256_add_epi32(s, v[j]);
      }
      // packs works per 128-bit lane: [v0 0-3, v1 0-3 | v0 4-7, v1 4-7]; the permute restores order.
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(v[0], v[1]), _MM_SHUFFLE(3, 1, 2, 0));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q16 + i), w);
    }
  } else {
    // Within each 128-bit lane, even bytes to the low 8, odd ones to the high 8.
    const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,  //
                                           0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int i = 0; i < n; i += 32) {
      const __m256i a = round8(scaled8(x + i)), b = round8(scaled8(x + i + 8));
      const __m256i c = round8(scaled8(x + i + 16)), e = round8(scaled8(x + i + 24));
      s = _mm256_add_epi32(s, _mm256_add_epi32(_mm256_add_epi32(a, b), _mm256_add_epi32(c, e)));
      // Two packs leave dwords [a0-3 b0-3 c0-3 e0-3 | a4-7 b4-7 c4-7 e4-7]: back to element order,
      // split each lane's 16 bytes into even and odd, then gather the evens of both lanes.
      const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, e));
      const __m256i inorder = _mm256_permutevar8x32_epi32(bytes, order);
      const __m256i halves = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(inorder, split), _MM_SHUFFLE(3, 1, 2, 0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i / 2), _mm256_castsi256_si128(halves));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 64 + i / 2), _mm256_extracti128_si256(halves, 1));
    }
  }
  return hsum8(s);
}

}  // namespace

void quantize_acts(const float* x, int64_t n_rows, int64_t cols, int group_size, int bits, Int8Acts& out) {
  out.n_rows = n_rows;
  out.groups = cols / group_size;
  // bits 4: whole 128-element chunks of 128 bytes; bits 8: int16 per element, whole 64-element
  // words of the interleaved layout.
  out.row_bytes = bits == 4 ? (cols + 127) / 128 * 128 : (cols + 63) / 64 * 128;
  const size_t qn = static_cast<size_t>(n_rows * out.row_bytes);
  if (out.q.size() < qn) out.q.resize(qn);
  const size_t gn = static_cast<size_t>(n_rows * out.groups);
  if (out.d.size() < gn) out.d.resize(gn), out.sum.resize(gn);
#pragma omp parallel for schedule(static) if (n_rows >= 8)
  for (int64_t m = 0; m < n_rows; ++m) {
    const float* xm = x + m * cols;
    int8_t* qm = out.q.data() + m * out.row_bytes;
    int16_t* q16 = reinterpret_cast<int16_t*>(qm);
    for (int64_t g = 0; g < out.groups; ++g) {
      const int64_t o = g * group_size;
      int8_t* dst = qm + (o / 128) * 128 + (o % 128) / 2;  // bits 4: a group never spans chunks
      const int s = quantize_group(xm + o, group_size, bits, &out.d[m * out.groups + g], dst, q16 + o);
      out.sum[m * out.groups + g] = static_cast<float>(s);
    }
    if (bits == 8) {  // the padding past cols: zero
      std::memset(q16 + cols, 0, static_cast<size_t>(out.row_bytes) - 2 * static_cast<size_t>(cols));
    } else if (cols % 128 != 0) {  // the last chunk's unused even and odd halves
      const int64_t c = cols / 128, used = (cols % 128) / 2;
      std::memset(qm + c * 128 + used, 0, static_cast<size_t>(64 - used));
      std::memset(qm + c * 128 + 64 + used, 0, static_cast<size_t>(64 - used));
    }
  }
}

}  // namespace qlm::avx2
