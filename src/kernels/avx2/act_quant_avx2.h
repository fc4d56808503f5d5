// Activations for the AVX2 int8 kernels, quantized once per matmul per group of the weight's
// group size with exactly the values of the AVX-512 path (avx512/act_quant.h: d = max|x| / 127,
// q = rint(x / d); 8-bit weights add the residual level q2 = rint(256·(x/d - q)), clamped to
// 127), so every int8 ISA computes the same integer group sums. Only the storage differs:
//  bits 4: bytes, avx512's chunk order (per 128 elements: the 64 even ones, then the 64 odd
//          ones, matching the low / high nibbles of the weight bytes);
//  bits 8: the combined 16-bit value 256·q1 + q2 (|.| <= 32639) as int16 in natural order, for
//          `vpmaddwd` against zero-extended weight bytes: AVX2 has no `vpdpbusd`, and
//          `vpmaddubsw` saturates its 16-bit pair sums (255·127·2 > 32767).
// d[g] is the group's step (bits 8: d / 256), sum[g] = Σ q over the group in those units
// (exact as a float). Padding past `cols` is zero.
#pragma once

#include <cstdint>
#include <vector>

namespace qlm::avx2 {

struct Int8Acts {
  int64_t n_rows = 0, groups = 0;
  int64_t row_bytes = 0;  // bytes per row in q
  std::vector<int8_t> q;  // [n_rows][row_bytes]
  std::vector<float> d;   // [n_rows][groups]
  std::vector<float> sum;
  const int8_t* row(int64_t m) const { return q.data() + m * row_bytes; }
};

// x: [n_rows][cols], cols a multiple of group_size (32, 64 or 128). Reuses out's buffers.
void quantize_acts(const float* x, int64_t n_rows, int64_t cols, int group_size, int bits, Int8Acts& out);

}  // namespace qlm::avx2
