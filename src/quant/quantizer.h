// Quantizing float rows into the MLX affine layout. Two methods share the format:
//  - rtn:    MLX's own round-to-nearest with a zero-preserving scale (bit-exact with MLX);
//  - search: per group, searches scale/bias candidates and refits them by weighted least
//            squares against the codes, minimising sum_i h_i (s q_i + b - w_i)^2 after the
//            scale and bias are rounded to their storage type. h is an importance weight per
//            input column (activation second moments; all ones when unknown).
#pragma once

#include <cstdint>
#include <string>

#include "io/dtype.h"
#include "io/model_config.h"

namespace qlm {

enum class QuantMethod { Rtn, Search };

QuantMethod parse_quant_method(const std::string& name);  // "rtn" | "search"; throws Error
const char* quant_method_name(QuantMethod m);

struct QuantizeOptions {
  QuantSpec spec;
  QuantMethod method = QuantMethod::Search;
  DType scale_dtype = DType::BF16;    // storage type of scales and biases (BF16, F16 or F32)
  const float* importance = nullptr;  // [cols] or null (= uniform)
  bool thorough = false;  // search: 4x more candidates (GPTQ's per-group choice, where time is spent anyway)
};

// Quantizes w[rows][cols] (cols % group_size == 0). Outputs: packed [rows][cols*bits/8] bytes,
// scales and biases [rows][cols/group_size] elements of scale_dtype. Rows run in parallel.
void quantize_rows(const float* w, int64_t rows, int64_t cols, const QuantizeOptions& opt,
                   uint8_t* packed, uint8_t* scales, uint8_t* biases);

// The same for rows stored as src_dtype (F32, F16 or BF16): each row is widened to F32 and,
// unless round_to is F32, rounded to round_to (as `qlm convert` rounds a checkpoint to the
// scale type before quantizing), then quantized; no F32 copy of the whole matrix is made.
void quantize_rows_converting(const void* src, DType src_dtype, DType round_to, int64_t rows, int64_t cols,
                              const QuantizeOptions& opt, uint8_t* packed, uint8_t* scales, uint8_t* biases);

// Rounds x to the nearest value representable in dtype (BF16/F16/F32).
float round_to_dtype(float x, DType dtype);
void store_scalar(DType dtype, float x, uint8_t* dst, int64_t index);
float load_scalar_any(DType dtype, const uint8_t* src);  // element 0 of src

}  // namespace qlm
