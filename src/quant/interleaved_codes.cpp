// See interleaved_codes.h.
#include "quant/interleaved_codes.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"

namespace qlm {

bool interleaving_enabled() {
  const char* env = std::getenv("QLM_INTERLEAVE");
  return !(env != nullptr && std::string(env) == "0");
}

bool has_interleaved_form(const WeightMatrix& m) {
  // Only the formats the int8 kernels read: other widths go to the reference kernel, which
  // reads the file's layout (a copy would only double their memory).
  return m.int8_kernel_format() && m.rows > 0 && m.row_bytes() % 4 == 0;
}

size_t interleaved_codes_bytes(const WeightMatrix& m) {
  return static_cast<size_t>((m.rows + 15) / 16) * 16 * m.row_bytes();
}

void attach_interleaved_codes(WeightMatrix& m, const std::shared_ptr<PageArena>& arena) {
  if (!has_interleaved_form(m)) return;
  const size_t bytes = interleaved_codes_bytes(m);
  // Page-aligned memory of its own (the kernels load 64-byte aligned vectors), in 2 MB pages
  // where the system allows, returned to the system when freed. From malloc, pieces under
  // glibc's dynamic mmap threshold (up to 32 MB) stayed in the heap after a model was freed,
  // and the next model loaded in the same process (qlm bench) showed them as resident: q4
  // 0.5B 352 -> 497 MB. 2 MB pages: 7B q4, two rounds with and without: load 2.70 / 2.76 ->
  // 2.10 / 1.39 s, decode 5.1 / 5.1 -> 5.5 / 5.1 tok/s.
  attach_interleaved_codes(m, arena ? PageArena::take(arena, bytes) : PageArena::single(bytes));
}

void attach_interleaved_codes(WeightMatrix& m, std::shared_ptr<uint8_t> buf) {
  if (!has_interleaved_form(m)) return;
  uint8_t* const raw = buf.get();
  const int64_t block_bytes = 16 * static_cast<int64_t>(m.row_bytes()), blocks = (m.rows + 15) / 16;
  // Blocks are independent and a 7B model has ~270k of them: spread over the threads.
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) interleave_block(m, b, raw + b * block_bytes);
  m.interleaved_codes = std::move(buf);
}

void interleave_block(const WeightMatrix& m, int64_t b, uint8_t* out) {
  // Reads the 16 source rows in order (16 sequential streams) and writes each word once.
  const int64_t words = static_cast<int64_t>(m.row_bytes() / 4);
  for (int i = 0; i < 16; ++i) {
    const int64_t r = std::min(b * 16 + i, m.rows - 1);
    const uint8_t* src = m.data + r * static_cast<int64_t>(m.row_bytes());
    for (int64_t j = 0; j < words; ++j) std::memcpy(out + 64 * j + 4 * i, src + 4 * j, 4);
  }
}

void dequantize_interleaved_row(const WeightMatrix& m, int64_t r, float* out) {
  QLM_CHECK(m.interleaved_codes != nullptr && r >= 0 && r < m.rows);
  const int64_t words = static_cast<int64_t>(m.row_bytes() / 4);
  thread_local std::vector<uint8_t> row;
  row.resize(m.row_bytes());
  const uint8_t* block = m.interleaved_codes.get() + (r / 16) * words * 64 + (r % 16) * 4;
  for (int64_t j = 0; j < words; ++j) std::memcpy(row.data() + 4 * j, block + j * 64, 4);
  // A one-row view of the same row: its codes from the copy, its scales and biases in place.
  WeightMatrix one;
  one.format = m.format;
  one.rows = 1;
  one.cols = m.cols;
  one.data = row.data();
  one.float_dtype = m.float_dtype;
  one.bits = m.bits;
  one.group_size = m.group_size;
  const size_t params = static_cast<size_t>(r * m.groups_per_row()) * dtype_size(m.float_dtype);
  one.scales = m.scales + params;
  one.biases = m.biases + params;
  dequantize_row(one, 0, out);
}

}  // namespace qlm
