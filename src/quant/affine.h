// MLX affine quantization (see shared MLX-FORMAT.md): codes q in [0, 2^bits - 1], packed
// LSB-first; 2/4/8 bits pack whole codes per u32 word, 3/5/6 bits form a byte bitstream.
// w = scale * q + bias per group of `group_size` consecutive inputs of a row.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qlm {

// Code c of a packed row (any of 2..8 bits). `row` starts on a word boundary.
inline uint32_t affine_code(const uint8_t* row, int64_t c, int bits) {
  const uint32_t mask = (1u << bits) - 1;
  if ((bits & (bits - 1)) == 0) {  // 2, 4, 8: whole codes per 32-bit little-endian word
    const int per_word = 32 / bits;
    const uint8_t* w = row + 4 * (c / per_word);
    uint32_t word = uint32_t(w[0]) | uint32_t(w[1]) << 8 | uint32_t(w[2]) << 16 | uint32_t(w[3]) << 24;
    return (word >> ((c % per_word) * bits)) & mask;
  }
  // 3, 5, 6: LSB-first bitstream. A code may straddle one byte boundary; read only the
  // second byte when the code needs it, so the last code never reads past the row.
  const size_t bit = static_cast<size_t>(c) * bits;
  const size_t byte = bit >> 3;
  const unsigned shift = bit & 7;
  uint32_t v = row[byte];
  if (shift + bits > 8) v |= uint32_t(row[byte + 1]) << 8;
  return (v >> shift) & mask;
}

// Packs n codes (each < 2^bits) into out (n * bits / 8 bytes, zero-filled first).
void pack_affine_codes(const uint8_t* codes, int64_t n, int bits, uint8_t* out);

// MLX's own round-to-nearest quantizer for one group (bit-exact with MLX, MLX-FORMAT.md b6):
// writes codes[n] and the group's scale and bias (as F32, before rounding to the storage
// type; callers round them to BF16/F16 and re-derive codes with quantize_group_codes).
void mlx_quantize_group(const float* w, int n, int bits, uint8_t* codes, float* scale, float* bias);
// Its scale and bias from the group's extremes (shared with the vector versions, which then
// derive the codes with the same float operations: true division, rint, clamp).
void mlx_scale_bias(float wmin, float wmax, int bits, float* scale, float* bias);

// Nearest codes for a given (scale, bias): q = clamp(rint((w - bias) / scale), 0, 2^bits - 1).
void quantize_group_codes(const float* w, int n, int bits, float scale, float bias, uint8_t* codes);

}  // namespace qlm
