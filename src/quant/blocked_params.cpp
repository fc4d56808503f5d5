// See blocked_params.h.
#include "quant/blocked_params.h"

#include <algorithm>
#include <cstdint>

namespace qlm {

namespace {

// T: the element type's bits (uint16_t for F16/BF16, uint32_t for F32), copied as they are.
template <typename T>
void regroup(const WeightMatrix& m, int64_t groups, int64_t blocks, T* out) {
  const T* scales = reinterpret_cast<const T*>(m.scales);
  const T* biases = reinterpret_cast<const T*>(m.biases);
  // Block by block, row by row: each source row's groups are contiguous, so this reads the
  // scales and biases in order and writes each block's 32 x groups values once. Blocks are
  // independent (a 7B model has ~1.2M of them), so they are spread over the threads.
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    T* blk = out + b * groups * 32;
    for (int i = 0; i < 16; ++i) {
      const int64_t r = std::min(b * 16 + i, m.rows - 1);
      const T* s = scales + r * groups;
      const T* z = biases + r * groups;
      for (int64_t g = 0; g < groups; ++g) {
        blk[g * 32 + i] = s[g];
        blk[g * 32 + 16 + i] = z[g];
      }
    }
  }
}

}  // namespace

size_t blocked_params_bytes(const WeightMatrix& m) {
  const size_t esz = dtype_size(m.float_dtype);
  if (m.format != WeightFormat::Affine || m.rows <= 0 || (esz != 2 && esz != 4)) return 0;  // F16/BF16/F32 scales
  return static_cast<size_t>((m.rows + 15) / 16 * m.groups_per_row() * 32) * esz;
}

void attach_blocked_params(WeightMatrix& m, const std::shared_ptr<PageArena>& arena) {
  const size_t bytes = blocked_params_bytes(m);
  if (bytes == 0) return;
  attach_blocked_params(m, arena ? PageArena::take(arena, bytes) : PageArena::single(bytes));
}

void attach_blocked_params(WeightMatrix& m, std::shared_ptr<uint8_t> buf) {
  if (blocked_params_bytes(m) == 0) return;
  const int64_t groups = m.groups_per_row(), blocks = (m.rows + 15) / 16;
  if (dtype_size(m.float_dtype) == 2)
    regroup(m, groups, blocks, reinterpret_cast<uint16_t*>(buf.get()));
  else
    regroup(m, groups, blocks, reinterpret_cast<uint32_t*>(buf.get()));
  m.blocked_params = std::move(buf);
}

}  // namespace qlm
