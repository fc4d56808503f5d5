// Per-group int8 quantization of activation rows for the AVX2 kernels (see act_quant_avx2.h).
// Plain C++ with the AVX-512 path's exact operations (IEEE division, round-to-nearest-even,
// the same clamps), which GCC vectorises; it is a small part of a matmul's work.
#include "kernels/avx2/act_quant_avx2.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// Everything below is compiled for AVX2 + FMA + F16C (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c")

namespace qlm::avx2 {

namespace {

// One group of n floats. Returns Σq in units of *d_out. q4: even elements to q[j], odd ones to
// q[64 + j]; q8: int16 values to q16[i].
int quantize_group(const float* x, int n, int bits, float* d_out, int8_t* q, int16_t* q16) {
  float m = 0.0f;
  for (int i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  const float d = m / 127.0f;
  *d_out = bits == 8 ? d * (1.0f / 256.0f) : d;
  if (d == 0.0f) {
    if (bits == 8) std::memset(q16, 0, sizeof(int16_t) * static_cast<size_t>(n));
    for (int i = 0; bits == 4 && i < n / 2; ++i) q[i] = q[64 + i] = 0;
    return 0;
  }
  int s = 0;
  for (int i = 0; i < n; ++i) {
    const float f = x[i] / d;  // division, as the spec rint(x / d)
    const int v1 = std::clamp(static_cast<int>(std::nearbyint(f)), -127, 127);
    if (bits == 8) {
      // The residual is exact in float and so is its scaling by 256: one rounding.
      const float r = (f - static_cast<float>(v1)) * 256.0f;
      const int v2 = std::min(static_cast<int>(std::nearbyint(r)), 127);
      q16[i] = static_cast<int16_t>(v1 * 256 + v2);
      s += v1 * 256 + v2;
    } else {
      (i % 2 == 0 ? q[i / 2] : q[64 + i / 2]) = static_cast<int8_t>(v1);
      s += v1;
    }
  }
  return s;
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
    std::memset(qm, 0, static_cast<size_t>(out.row_bytes));  // padding (a few hundred bytes)
    int16_t* q16 = reinterpret_cast<int16_t*>(qm);
    for (int64_t g = 0; g < out.groups; ++g) {
      const int64_t o = g * group_size;
      int8_t* dst = qm + (o / 128) * 128 + (o % 128) / 2;  // bits 4: a group never spans chunks
      const int s = quantize_group(xm + o, group_size, bits, &out.d[m * out.groups + g], dst, q16 + o);
      out.sum[m * out.groups + g] = static_cast<float>(s);
    }
  }
}

}  // namespace qlm::avx2
