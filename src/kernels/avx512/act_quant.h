// Activations quantized once per matmul to int8 per group of the weight's group size
// (symmetric: d = max|x| / 127, q = rint(x / d)), in the byte order the int8 kernels read.
#pragma once

#include <cstdint>
#include <vector>

namespace qlm::avx512 {

// Byte order of one activation row, in 64-byte weight "chunks":
//  bits 8: natural order, chunk c holds elements [64c, 64c + 64).
//  bits 4: chunk c covers elements [128c, 128c + 128) as 64 even elements then 64 odd ones,
//          matching the low / high nibbles of the 64 weight bytes (MLX packs LSB first).
// Padding past `cols` is zero. d[g] is the group's step, sum[g] = Σ q over the group (as a
// float; exact, |sum| ≤ 127·128).
struct QuantizedActs {
  int64_t n_rows = 0, groups = 0, chunks = 0;
  int64_t row_stride = 0;  // bytes per row in q = chunks * 64 * (8 / bits)
  std::vector<int8_t> q;    // [n_rows][row_stride]
  std::vector<float> d;     // [n_rows][groups]
  std::vector<float> sum;   // [n_rows][groups]
  const int8_t* row(int64_t m) const { return q.data() + m * row_stride; }
};

// x: [n_rows][cols]. Reuses out's buffers (they only grow).
void quantize_acts(const float* x, int64_t n_rows, int64_t cols, int group_size, int bits,
                   QuantizedActs& out);

}  // namespace qlm::avx512
