// Activations quantized once per matmul to int8 per group of the weight's group size
// (symmetric: d = max|x| / 127, q = rint(x / d)), in the byte order the int8 kernels read.
// For 8-bit weights a second int8 level holds the rounding residual in steps of d / 256, so
// the activation is d/256 · (256·q1 + q2): 16-bit precision, with int32 sums still exact.
#pragma once

#include <cstdint>
#include <vector>

namespace qlm::avx512 {

// Byte order of one activation row, in 64-byte weight "chunks":
//  bits 8: natural order, chunk c holds elements [64c, 64c + 64).
//  bits 4: chunk c covers elements [128c, 128c + 128) as 64 even elements then 64 odd ones,
//          matching the low / high nibbles of the 64 weight bytes (MLX packs LSB first).
//  bits 8 has two levels: q1 = rint(x / d) at [0, level_bytes), q2 = rint(256·(x/d - q1))
//          (clamped to 127; |x/d - q1| <= 1/2) at [level_bytes, 2·level_bytes). The kernels
//          form S = 256·Σ w·q1 + Σ w·q2 exactly in int32 (|S| < 2^31 for groups up to 128)
//          and use d[g] = d / 256 as the step of the combined 16-bit value 256·q1 + q2.
// Padding past `cols` is zero. d[g] is the group's step, sum[g] = Σ q over the group (as a
// float; exact, |sum| ≤ 2^23) in the same units.
struct QuantizedActs {
  int64_t n_rows = 0, groups = 0, chunks = 0;
  int64_t level_bytes = 0;  // bytes of one level of a row = chunks * 64 * (8 / bits)
  int64_t row_stride = 0;   // bytes per row in q: level_bytes, times 2 for bits 8
  std::vector<int8_t> q;    // [n_rows][row_stride]
  std::vector<float> d;     // [n_rows][groups]
  std::vector<float> sum;   // [n_rows][groups]
  const int8_t* row(int64_t m) const { return q.data() + m * row_stride; }
};

// x: [n_rows][cols]. Reuses out's buffers (they only grow).
void quantize_acts(const float* x, int64_t n_rows, int64_t cols, int group_size, int bits,
                   QuantizedActs& out);

}  // namespace qlm::avx512
