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
      repeat(" ", 100000),
      repeat("\n", 50000),
      repeat(" \t", 50000),
      repeat("a", 100000),
      repeat("7", 50000),
      repeat("!?", 50000),
      repeat("\xE4\xBD\xA0", 30000),
      repeat("ab ", 30000) + "\n\n  x",
      repeat("<|im_end|>", 2000),
  };
  for (const std::string& text : inputs) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<int> ids = tok.encode(text, false);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 5.0) << "input starting " << nlohmann::json(text.substr(0, 8)).dump();
    EXPECT_EQ(tok.decode(ids), text)
        << "input starting " << nlohmann::json(text.substr(0, 8)).dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, LongInputTest, ::testing::ValuesIn(kGoldenNames),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (ch == '.') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace qlm::test

#include <thread>

namespace qlm::test {
namespace {

// One Tokenizer is shared by server threads: the word cache and regex state must be safe.
TEST(TokenizerThreads, ConcurrentEncodesAgreeWithReference) {
  if (!shared_data_present()) GTEST_SKIP() << "shared data not found at " << kSharedData;
  const Golden& g = golden("qwen3");
  const Tokenizer& tok = shared_tokenizer(g.tokenizer_dir);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  const std::vector<GoldenCase>* cases = &g.cases;
  for (int t = 0; t < 4; ++t) {
    int* misses = &mismatches[t];
    threads.emplace_back([cases, &tok, misses, t] {
      for (size_t i = t; i < cases->size(); i += 2)
        if (tok.encode((*cases)[i].text) != (*cases)[i].ids) ++*misses;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace qlm::test
