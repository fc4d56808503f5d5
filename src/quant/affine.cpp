// Scalar reference of the MLX affine format: packing, dequantization, MLX's quantizer.
#include "quant/affine.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "base/error.h"
#include "base/half.h"
#include "quant/weight_matrix.h"

namespace qlm {

void pack_affine_codes(const uint8_t* codes, int64_t n, int bits, uint8_t* out) {
  // The common widths as plain loops the compiler vectorises; the same bytes as the general one.
  if (bits == 8) {
    std::memcpy(out, codes, static_cast<size_t>(n));
    return;
  }
  if (bits == 4 && n % 2 == 0) {
    for (int64_t i = 0; i < n / 2; ++i) out[i] = static_cast<uint8_t>(codes[2 * i] | (codes[2 * i + 1] << 4));
    return;
  }
  const size_t nbytes = static_cast<size_t>(n) * bits / 8;
  std::memset(out, 0, nbytes);
  for (int64_t c = 0; c < n; ++c) {
    const size_t bit = static_cast<size_t>(c) * bits;
    // For 2/4/8 bits the LSB-first bitstream over bytes equals LSB-first codes per
    // little-endian u32 word, so one loop writes every width.
    uint32_t v = uint32_t(codes[c]) << (bit & 7);
    out[bit >> 3] |= static_cast<uint8_t>(v);
    if ((bit & 7) + bits > 8) out[(bit >> 3) + 1] |= static_cast<uint8_t>(v >> 8);
  }
}

void mlx_scale_bias(float wmin, float wmax, int bits, float* scale_out, float* bias_out) {
  const float n_levels = static_cast<float>((1 << bits) - 1);
  float scale = std::max((wmax - wmin) / n_levels, 1e-7f);
  const bool min_is_edge = std::fabs(wmin) > std::fabs(wmax);
  float edge = min_is_edge ? wmin : wmax;
  if (!min_is_edge) scale = -scale;
  const float q0 = std::rint(edge / scale);
  float bias = 0.0f;
  if (q0 != 0.0f) {
    scale = edge / q0;
    bias = edge;
  }
  *scale_out = scale;
  *bias_out = bias;
}

void mlx_quantize_group(const float* w, int n, int bits, uint8_t* codes, float* scale_out,
                        float* bias_out) {
  float wmin = std::numeric_limits<float>::infinity();
  float wmax = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) {
    wmin = std::min(wmin, w[i]);
    wmax = std::max(wmax, w[i]);
  }
  mlx_scale_bias(wmin, wmax, bits, scale_out, bias_out);
  quantize_group_codes(w, n, bits, *scale_out, *bias_out, codes);
}

void quantize_group_codes(const float* w, int n, int bits, float scale, float bias, uint8_t* codes) {
  const float n_levels = static_cast<float>((1 << bits) - 1);
  for (int i = 0; i < n; ++i) {
    float q = scale != 0.0f ? std::rint((w[i] - bias) / scale) : 0.0f;
    codes[i] = static_cast<uint8_t>(std::min(std::max(q, 0.0f), n_levels));
  }
}

namespace {
inline float load_scalar(DType t, const uint8_t* p, int64_t i) {
  uint16_t h;
  switch (t) {
    case DType::BF16:
      std::memcpy(&h, p + 2 * i, 2);
      return bf16_to_float(h);
    case DType::F16:
      std::memcpy(&h, p + 2 * i, 2);
      return f16_to_float(h);
    default: {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      return f;
    }
  }
}
}  // namespace

void dequantize_row(const WeightMatrix& w, int64_t r, float* out) {
  QLM_CHECK(r >= 0 && r < w.rows);
  const uint8_t* row = w.data + static_cast<size_t>(r) * w.row_bytes();
  if (w.format == WeightFormat::Float) {
    convert_to_f32(w.float_dtype, row, out, static_cast<size_t>(w.cols));
    return;
  }
  const int64_t groups = w.groups_per_row();
  for (int64_t g = 0; g < groups; ++g) {
    const float s = load_scalar(w.float_dtype, w.scales, r * groups + g);
    const float b = load_scalar(w.float_dtype, w.biases, r * groups + g);
    for (int64_t c = g * w.group_size; c < (g + 1) * w.group_size; ++c)
      out[c] = s * static_cast<float>(affine_code(row, c, w.bits)) + b;
  }
}

}  // namespace qlm
