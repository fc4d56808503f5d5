// DType names and float conversion.
#include "io/dtype.h"

#include <cstring>

#include "base/error.h"
#include "base/half.h"

namespace qlm {

namespace {
struct DTypeName {
  DType type;
  std::string_view name;
};
constexpr DTypeName kNames[] = {
    {DType::F32, "F32"}, {DType::F16, "F16"}, {DType::BF16, "BF16"}, {DType::U32, "U32"},
    {DType::U8, "U8"},   {DType::I8, "I8"},   {DType::I32, "I32"},   {DType::I64, "I64"},
    {DType::F64, "F64"}, {DType::BOOL, "BOOL"},
};
}  // namespace

std::string_view dtype_name(DType t) {
  for (const auto& n : kNames)
    if (n.type == t) return n.name;
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& n : kNames)
    if (n.name == name) return n.type;
  return std::nullopt;
}

void convert_to_f32(DType t, const void* src, float* dst, size_t n) {
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::F16: {
      uint16_t h;
      for (size_t i = 0; i < n; ++i) {
        std::memcpy(&h, static_cast<const uint8_t*>(src) + 2 * i, 2);
        dst[i] = f16_to_float(h);
      }
      return;
    }
    case DType::BF16: {
      uint16_t h;
      for (size_t i = 0; i < n; ++i) {
        std::memcpy(&h, static_cast<const uint8_t*>(src) + 2 * i, 2);
        dst[i] = bf16_to_float(h);
      }
      return;
    }
    default:
      fail("cannot convert ", dtype_name(t), " to F32");
  }
}

}  // namespace qlm
