// qlm convert: a Hugging Face checkpoint -> an MLX-layout folder (q2..q8 affine, or BF16/F16),
// streamed tensor by tensor, written to a temporary folder and renamed into place at the end.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "quant/quantizer.h"

namespace qlm {

struct ConvertOptions {
  std::string hf_path;
  std::string out_path;
  int bits = 4;  // 0 = no quantization (float output only)
  int group_size = 64;
  QuantMethod method = QuantMethod::Search;
  std::string recipe;                  // "" or "mixed_<low>_<high>" (e.g. mixed_4_6)
  std::optional<DType> float_dtype;    // output float type; default: source's BF16/F16, else BF16
  bool force = false;                  // replace an existing output folder
  const std::atomic<bool>* cancel = nullptr;  // set by a signal handler to stop cleanly
  bool progress = true;
  bool importance = true;  // search: weigh errors by data-free activation estimates
  std::string calib_path;  // search: importance from real activations on this text instead
  int calib_tokens = 16384;
};

struct ConvertReport {
  int tensors_in = 0;
  int modules_quantized = 0;
  int modules_kept_float = 0;  // quantizable but rows not a multiple of the group size
  uint64_t bytes_written = 0;
  int files = 0;
  double seconds = 0;
};

// Parses --quantize spellings: q2..q8, q4_bit/q8_bit (seed workflow), 4bit, bf16, f16, f32.
// Sets bits (0 for float) and, for float spellings, the float dtype.
void parse_quantize_flag(const std::string& text, int* bits, std::optional<DType>* float_dtype);

ConvertReport convert_checkpoint(const ConvertOptions& opt);

}  // namespace qlm
