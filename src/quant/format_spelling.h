// The user-facing spellings of a weight format, shared by `convert --quantize`, bench's
// --hf formats and the seed workflow's hardware.mlx_quantization check: q2..q8 with optional
// "_bit"/"bit"/"-bit" suffix (q4_bit, 4bit), bf16/f16/f32 and their long names, and "none".
#pragma once

#include <optional>
#include <string>

#include "io/dtype.h"

namespace qlm {

struct FormatSpelling {
  int bits = 0;                     // 2..8 quantized (never 7); 0 = not quantized
  std::optional<DType> float_dtype;  // for 0 bits: the float type named, if any ("none": none)
};

// nullopt when the text names no format.
std::optional<FormatSpelling> parse_format_spelling(const std::string& text);

}  // namespace qlm
