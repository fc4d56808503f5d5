// Long and pathological inputs (huge whitespace runs, one enormous word, many added tokens)
// must encode without regex stack limits or quadratic blow-ups, and still round-trip.
#include <gtest/gtest.h>

#include <chrono>

#include "golden_corpus.h"

namespace qlm::test {
namespace {

class LongInputTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!shared_data_present()) GTEST_SKIP() << "shared data not found at " << kSharedData;
  }
};

std::string repeat(std::string_view unit, size_t bytes) {
  std::string s;
  while (s.size() < bytes) s += unit;
  return s;
}

TEST_P(LongInputTest, PathologicalRunsRoundTrip) {
  const Tokenizer& tok = shared_tokenizer(golden(GetParam()).tokenizer_dir);
  const std::vector<std::string> inputs = {
      repeat(" ", 100000),        repeat("\n", 50000),      repeat(" \t", 50000),
      repeat("a", 100000),        repeat("7", 50000),       repeat("!?", 50000),
      repeat("\xE4\xBD\xA0", 30000), repeat("ab ", 30000) + "\n\n  x",
      repeat("<|im_end|>", 2000),
  };
  for (const std::string& text : inputs) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<int> ids = tok.encode(text, false);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 5.0) << "input starting " << nlohmann::json(text.substr(0, 8)).dump();
    EXPECT_EQ(tok.decode(ids), text) << "input starting " << nlohmann::json(text.substr(0, 8)).dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, LongInputTest, ::testing::ValuesIn(kGoldenNames), [](const auto& info) {
  std::string name = info.param;
  for (char& ch : name)
    if (ch == '.') ch = '_';
  return name;
});

}  // namespace
}  // namespace qlm::test
