// The format spellings users type (README, seed workflow configs) and what they must mean.
#include "quant/format_spelling.h"

#include <gtest/gtest.h>

namespace qlm {
namespace {

TEST(FormatSpelling, QuantizedSpellings) {
  const std::pair<const char*, int> cases[] = {{"q4", 4},     {"q8", 8},    {"q4_bit", 4}, {"q8_bit", 8},
                                               {"4bit", 4},   {"8-bit", 8}, {"Q6", 6},     {"q2", 2},
                                               {"q3_bit", 3}, {"5", 5}};
  for (const auto& [text, bits] : cases) {
    const auto f = parse_format_spelling(text);
    ASSERT_TRUE(f.has_value()) << text;
    EXPECT_EQ(f->bits, bits) << text;
    EXPECT_FALSE(f->float_dtype.has_value()) << text;
  }
}

TEST(FormatSpelling, FloatSpellingsAndNone) {
  EXPECT_EQ(parse_format_spelling("bf16")->float_dtype, DType::BF16);
  EXPECT_EQ(parse_format_spelling("bfloat16")->float_dtype, DType::BF16);
  EXPECT_EQ(parse_format_spelling("fp16")->float_dtype, DType::F16);
  EXPECT_EQ(parse_format_spelling("float32")->float_dtype, DType::F32);
  const auto none = parse_format_spelling("none");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->bits, 0);
  EXPECT_FALSE(none->float_dtype.has_value());
}

TEST(FormatSpelling, NotFormats) {
  for (const char* text : {"", "q", "q7", "q9", "q99", "q16", "bit", "_bit", "int4", "q4_bits", "fp8"})
    EXPECT_FALSE(parse_format_spelling(text).has_value()) << "'" << text << "'";
}

}  // namespace
}  // namespace qlm
