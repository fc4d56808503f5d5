// Per-group symmetric int8 quantization of activation rows (see act_quant.h for the layout).
#include "kernels/avx512/act_quant.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

// Everything below is compiled for AVX-512 F/BW/VL/VNNI/BF16 (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16")

namespace qlm::avx512 {

namespace {
// One group of n (multiple of 32) floats -> n int8. bits 8: natural order at q. bits 4: the
// even elements at q, the odd ones at q + 64 (the chunk layout of act_quant.h; a group never
// straddles a 128-element chunk). bits 8 also writes the residual level at q + level_bytes.
// Returns Σq in units of *d_out (bits 8: 256·Σq1 + Σq2, step d / 256).
int quantize_group(const float* x, int n, int bits, int64_t level_bytes, float* d_out, int8_t* q) {
  __m512 amax = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
  const float m = _mm512_reduce_max_ps(amax);
  const float d = m / 127.0f;
  *d_out = bits == 8 ? d * (1.0f / 256.0f) : d;  // exact unless d < 2^-118 (still deterministic)
  if (d == 0.0f) {
    if (bits == 8) {
      std::memset(q, 0, static_cast<size_t>(n));
      std::memset(q + level_bytes, 0, static_cast<size_t>(n));
    } else {
      std::memset(q, 0, static_cast<size_t>(n / 2));
      std::memset(q + 64, 0, static_cast<size_t>(n / 2));
    }
    return 0;
  }
  const __m512 vd = _mm512_set1_ps(d);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
  // Division (not multiply by 1/d) so the spec is exactly rint(x / d), ties to even.
  auto scaled16 = [&](const float* p) { return _mm512_div_ps(_mm512_loadu_ps(p), vd); };
  auto round16 = [&](__m512 f) { return _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(f), lo), hi); };
  auto quant16 = [&](const float* p) { return round16(scaled16(p)); };
  __m512i s = _mm512_setzero_si512();
  if (bits == 8) {
    // q1 = rint(f), f = x / d as above; the residual f - q1 is exact in float (|f| <= 127, q1
    // within 1/2 of it) and so is its scaling by 256, leaving one rounding: q2 = rint(256·(f - q1)).
    const __m512 k256 = _mm512_set1_ps(256.0f);
    for (int i = 0; i < n; i += 16) {
      const __m512 f = scaled16(x + i);
      const __m512i v1 = round16(f);
      const __m512 r = _mm512_mul_ps(_mm512_sub_ps(f, _mm512_cvtepi32_ps(v1)), k256);
      const __m512i v2 = _mm512_min_epi32(_mm512_cvtps_epi32(r), hi);  // 128 only at an exact tie
      s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_slli_epi32(v1, 8), v2));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtepi32_epi8(v1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + level_bytes + i), _mm512_cvtepi32_epi8(v2));
    }
  } else {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int i = 0; i < n; i += 32) {
      const __m512i v0 = quant16(x + i), v1 = quant16(x + i + 16);
      s = _mm512_add_epi32(s, _mm512_add_epi32(v0, v1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i / 2), _mm512_cvtepi32_epi8(_mm512_permutex2var_epi32(v0, even, v1)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 64 + i / 2), _mm512_cvtepi32_epi8(_mm512_permutex2var_epi32(v0, odd, v1)));
    }
  }
  return _mm512_reduce_add_epi32(s);
}
}  // namespace

void quantize_acts(const float* x, int64_t n_rows, int64_t cols, int group_size, int bits,
                   QuantizedActs& out) {
  const int64_t elems_per_chunk = 64 * 8 / bits;
  out.n_rows = n_rows;
  out.groups = cols / group_size;
  out.chunks = (cols + elems_per_chunk - 1) / elems_per_chunk;
  out.level_bytes = out.chunks * elems_per_chunk;
  out.row_stride = bits == 8 ? 2 * out.level_bytes : out.level_bytes;
  const size_t qn = static_cast<size_t>(n_rows * out.row_stride);
  if (out.q.size() < qn) out.q.resize(qn);
  const size_t gn = static_cast<size_t>(n_rows * out.groups);
  if (out.d.size() < gn) out.d.resize(gn), out.sum.resize(gn);
  // Prefill quantizes hundreds of rows (millions of values for the down projection) and a
  // batch of decoding sequences dozens: split them across threads, or the other threads wait
  // for it before every matmul. Decode's single row stays on the calling thread.
#pragma omp parallel for schedule(static) if (n_rows >= 8)
  for (int64_t m = 0; m < n_rows; ++m) {
    const float* xm = x + m * cols;
    int8_t* qm = out.q.data() + m * out.row_stride;
    for (int64_t g = 0; g < out.groups; ++g) {
      const int64_t o = g * group_size;
      // bits 4: element o sits in chunk o / 128, its even half at (o % 128) / 2.
      int8_t* dst = bits == 8 ? qm + o : qm + (o / 128) * 128 + (o % 128) / 2;
      const int s = quantize_group(xm + o, group_size, bits, out.level_bytes, &out.d[m * out.groups + g], dst);
      out.sum[m * out.groups + g] = static_cast<float>(s);
    }
    if (bits == 8) {
      std::memset(qm + cols, 0, static_cast<size_t>(out.level_bytes - cols));
      std::memset(qm + out.level_bytes + cols, 0, static_cast<size_t>(out.level_bytes - cols));
    } else if (cols % 128 != 0) {  // the last chunk's unused even and odd halves
      const int64_t c = cols / 128, used = (cols % 128) / 2;
      std::memset(qm + c * 128 + used, 0, static_cast<size_t>(64 - used));
      std::memset(qm + c * 128 + 64 + used, 0, static_cast<size_t>(64 - used));
    }
  }
}

}  // namespace qlm::avx512
