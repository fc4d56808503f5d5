#include "quant/format_spelling.h"

namespace qlm {

std::optional<FormatSpelling> parse_format_spelling(const std::string& text) {
  std::string t = text;
  for (const std::string suffix : {"_bit", "-bit", "bit"})
    if (t.size() > suffix.size() && t.ends_with(suffix)) {
      t.resize(t.size() - suffix.size());
      break;
    }
  if (t == "none") return FormatSpelling{};
  if (t == "bf16" || t == "bfloat16") return FormatSpelling{0, DType::BF16};
  if (t == "f16" || t == "fp16" || t == "float16") return FormatSpelling{0, DType::F16};
  if (t == "f32" || t == "fp32" || t == "float32") return FormatSpelling{0, DType::F32};
  if (!t.empty() && (t[0] == 'q' || t[0] == 'Q')) t.erase(0, 1);
  if (t.size() == 1 && t[0] >= '2' && t[0] <= '8' && t[0] != '7') return FormatSpelling{t[0] - '0', {}};
  return std::nullopt;
}

}  // namespace qlm
