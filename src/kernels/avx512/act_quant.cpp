// Per-group symmetric int8 quantization of activation rows (see act_quant.h for the layout).
#include "kernels/avx512/act_quant.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace qlm::avx512 {

namespace {
// One group of n (multiple of 16) floats -> n int8 in natural order; returns Σq.
int quantize_group(const float* x, int n, float* d_out, int8_t* q) {
  __m512 amax = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
  const float m = _mm512_reduce_max_ps(amax);
  const float d = m / 127.0f;
  *d_out = d;
  if (d == 0.0f) {
    std::memset(q, 0, static_cast<size_t>(n));
    return 0;
  }
  const __m512 vd = _mm512_set1_ps(d);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
  __m512i s = _mm512_setzero_si512();
  for (int i = 0; i < n; i += 16) {
    // Division (not multiply by 1/d) so the spec is exactly rint(x / d), ties to even.
    __m512i v = _mm512_cvtps_epi32(_mm512_div_ps(_mm512_loadu_ps(x + i), vd));
    v = _mm512_min_epi32(_mm512_max_epi32(v, lo), hi);
    s = _mm512_add_epi32(s, v);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtepi32_epi8(v));
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
  out.row_stride = out.chunks * elems_per_chunk;
  const size_t qn = static_cast<size_t>(n_rows * out.row_stride);
  if (out.q.size() < qn) out.q.resize(qn);
  const size_t gn = static_cast<size_t>(n_rows * out.groups);
  if (out.d.size() < gn) out.d.resize(gn), out.sum.resize(gn);
  // Prefill quantizes hundreds of rows (millions of values for the down projection): split
  // them across threads, or the other threads wait for it before every matmul. Decode's single
  // row stays on the calling thread.
#pragma omp parallel for schedule(static) if (n_rows >= 32)
  for (int64_t m = 0; m < n_rows; ++m) {
    thread_local std::vector<int8_t> natural;  // one row in natural order (bits 4 only)
    if (bits == 4 && natural.size() < static_cast<size_t>(out.row_stride)) natural.resize(out.row_stride);
    const float* xm = x + m * cols;
    int8_t* qm = out.q.data() + m * out.row_stride;
    int8_t* dst = bits == 8 ? qm : natural.data();
    for (int64_t g = 0; g < out.groups; ++g) {
      const int64_t o = g * group_size;
      const int s = quantize_group(xm + o, group_size, &out.d[m * out.groups + g], dst + o);
      out.sum[m * out.groups + g] = static_cast<float>(s);
    }
    std::memset(dst + cols, 0, static_cast<size_t>(out.row_stride - cols));
    if (bits == 4) {
      // Chunk c: [even elements of the 128][odd elements], see act_quant.h.
      for (int64_t c = 0; c < out.chunks; ++c) {
        const int8_t* src = natural.data() + c * 128;
        int8_t* d = qm + c * 128;
        for (int k = 0; k < 64; ++k) {
          d[k] = src[2 * k];
          d[64 + k] = src[2 * k + 1];
        }
      }
    }
  }
}

}  // namespace qlm::avx512
