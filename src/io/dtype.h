// Element types that appear in safetensors files qlm reads and writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace qlm {

enum class DType { F32, F16, BF16, U32, U8, I8, I32, I64, F64, BOOL };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::F64:
    case DType::I64: return 8;
    case DType::F32:
    case DType::U32:
    case DType::I32: return 4;
    case DType::F16:
    case DType::BF16: return 2;
    case DType::U8:
    case DType::I8:
    case DType::BOOL: return 1;
  }
  return 0;
}

// The safetensors spelling ("F32", "BF16", ...).
std::string_view dtype_name(DType t);
std::optional<DType> parse_dtype(std::string_view name);

inline bool is_float_dtype(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Converts n elements of a float dtype (F32/F16/BF16) to F32.
void convert_to_f32(DType t, const void* src, float* dst, size_t n);

}  // namespace qlm
