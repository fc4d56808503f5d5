// A 2-D weight matrix [rows = out][cols = in] as it lies in the mapped file: plain floats
// (F32/F16/BF16) or MLX affine groups (packed unsigned codes + per-group scale and bias).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/dtype.h"

namespace qlm {

enum class WeightFormat { Float, Affine };

struct WeightMatrix {
  std::string name;  // module path, e.g. "model.layers.0.mlp.up_proj"
  WeightFormat format = WeightFormat::Float;
  int64_t rows = 0;  // output features
  int64_t cols = 0;  // input features
  // Float: data is [rows][cols] of float_dtype. Affine: [rows][cols * bits / 32] u32 words.
  const uint8_t* data = nullptr;
  DType float_dtype = DType::F32;  // Float: element type; Affine: type of scales and biases
  int bits = 0;                     // Affine only
  int group_size = 0;               // Affine only
  const uint8_t* scales = nullptr;  // Affine: [rows][cols / group_size]
  const uint8_t* biases = nullptr;  // Affine: [rows][cols / group_size]
  // Affine, optional (blocked_params.h): the same scales and biases regrouped per 16-row block
  // as [block][group][scales x16, biases x16] in float_dtype, so the int8 kernels copy them
  // instead of transposing them for every block they touch. Shared by copies of the matrix.
  std::shared_ptr<const uint8_t> blocked_params;
  // Affine, optional (interleaved_codes.h): the codes regrouped per 16-row block, word by
  // word, for the AVX-512 int8 kernels; 64-byte aligned. Shared by copies of the matrix.
  std::shared_ptr<const uint8_t> interleaved_codes;

  size_t row_bytes() const {
    return format == WeightFormat::Float ? static_cast<size_t>(cols) * dtype_size(float_dtype)
                                         : static_cast<size_t>(cols) * bits / 8;
  }
  int64_t groups_per_row() const { return format == WeightFormat::Affine ? cols / group_size : 0; }
  // q4/q8 affine with groups of 32, 64 or 128: what the int8 kernels (and their load-time
  // layouts) handle; other affine widths go to the reference kernel.
  bool int8_kernel_format() const {
    return format == WeightFormat::Affine && (bits == 4 || bits == 8) &&
           (group_size == 32 || group_size == 64 || group_size == 128) && cols % group_size == 0;
  }
  // Bytes read per full pass over the matrix (codes + scales + biases), for roofline figures.
  size_t total_bytes() const {
    size_t n = row_bytes() * rows;
    if (format == WeightFormat::Affine) n += 2 * rows * groups_per_row() * dtype_size(float_dtype);
    return n;
  }
};

// Writes row r of w as F32 into out[cols]. This is the specification every kernel matches.
void dequantize_row(const WeightMatrix& w, int64_t r, float* out);

}  // namespace qlm
