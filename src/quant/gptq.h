// GPTQ-style rounding for the affine format (--calib): columns are quantized left to right
// and each one's rounding error is pushed onto the columns not yet quantized, through the
// inverse of the input Gram matrix H = X^T X of real activations. This uses the correlations
// between input channels that a per-group search cannot see. Each group's scale and bias are
// chosen (importance-weighted search) on the error-updated weights when the group begins.
// Cost: O(cols^3) for the factorisation and O(rows * cols^2) for the updates.
#pragma once

#include <cstdint>
#include <vector>

#include "quant/quantizer.h"

namespace qlm {

// What GPTQ needs from the Gram matrix, computed once per tensor: U (upper triangular,
// H^-1 = U^T U, with 1% dampening), the importance diag(H), and the dead input channels.
struct GptqFactor {
  int64_t cols = 0;
  std::vector<double> u;     // [cols][cols]
  std::vector<float> diag;   // [cols]
  std::vector<uint8_t> dead;  // [cols], 1 where the channel never carried activation
};
GptqFactor make_gptq_factor(const std::vector<double>& gram, int64_t cols);

// Rows are independent given the factor, so any block of rows can be quantized alone.
// w: [rows][cols] F32 (overwritten). Outputs as quantize_rows; opt.method/importance ignored.
void gptq_quantize_rows(float* w, int64_t rows, int64_t cols, const GptqFactor& f,
                        const QuantizeOptions& opt, uint8_t* packed, uint8_t* scales, uint8_t* biases);

}  // namespace qlm
