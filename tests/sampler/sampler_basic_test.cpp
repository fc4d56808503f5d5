// Behaviour that needs no reference: greedy = argmax, validation messages, seeding,
// logprobs switch, bad token ids, and a timing line on a 152k vocabulary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "base/error.h"
#include "sampler_test_util.h"

namespace qlm {
namespace {

using ::testing::HasSubstr;

std::string validate_message(const SamplingParams& p) {
  try {
    validate(p);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SamplerBasic, GreedyIsArgmaxLowestIdOnTiesAndDrawsNoRandomNumbers) {
  Sampler sampler(SamplingParams{.top_k = 3, .top_p = 0.5f}, 10, {});
  std::vector<float> logits = {0.f, 1.f, -2.f, 5.f, 3.f, 0.5f, 4.f, 5.f, 5.f, -1.f};
  for (int step = 0; step < 100; ++step) {
    std::vector<float> scratch = logits;
    EXPECT_EQ(sampler.sample(scratch.data()).id, 3);
  }
  EXPECT_EQ(sampler.rng_draws(), 0u);

  Sampler tiny_t(SamplingParams{.temperature = 1e-6f}, 10, {});  // would overflow logits / T
  std::vector<float> scratch_t = logits;
  EXPECT_EQ(tiny_t.sample(scratch_t.data()).id, 3);
  EXPECT_EQ(tiny_t.rng_draws(), 0u);

  const auto big = test::hashed_logits(152064, 99, 20.0f);
  Sampler big_sampler(SamplingParams{}, int(big.size()), {});
  std::vector<float> scratch = big;
  const TokenChoice c = big_sampler.sample(scratch.data());
  EXPECT_EQ(c.id, int(std::max_element(big.begin(), big.end()) - big.begin()));
  EXPECT_FLOAT_EQ(c.logprob_raw, c.logprob_processed);  // no penalties: same distribution
  EXPECT_EQ(big_sampler.rng_draws(), 0u);
}

// The scan works in blocks: ties and top-n order must hold across block boundaries too.
TEST(SamplerBasic, TiesAcrossTheVocabularyResolveToLowestId) {
  std::vector<float> logits(5000, -1.0f);
  logits[4321] = logits[1500] = logits[100] = 2.0f;
  logits[3000] = logits[700] = 1.5f;
  Sampler sampler(SamplingParams{}, 5000, {});
  std::vector<float> scratch = logits;
  const TokenChoice c = sampler.sample(scratch.data(), 5);
  EXPECT_EQ(c.id, 100);
  ASSERT_EQ(c.top.size(), 5u);
  const int want[] = {100, 1500, 4321, 700, 3000};
  for (int k = 0; k < 5; ++k) EXPECT_EQ(c.top[k].first, want[k]);
  EXPECT_FLOAT_EQ(c.top[0].second, c.top[2].second);
}

TEST(SamplerBasic, TopNMatchesBruteForceOnLargeVocabulary) {
  const int vocab = 20000, top_n = 12;
  const auto logits = test::hashed_logits(vocab, 5, 4.0f);
  std::vector<int> order(vocab);
  for (int i = 0; i < vocab; ++i) order[i] = i;
  std::partial_sort(order.begin(), order.begin() + top_n, order.end(), [&](int a, int b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  Sampler sampler(SamplingParams{.temperature = 1.0f}, vocab, {});
  std::vector<float> scratch = logits;
  const TokenChoice c = sampler.sample(scratch.data(), top_n);
  ASSERT_EQ(int(c.top.size()), top_n);
  for (int k = 0; k < top_n; ++k) EXPECT_EQ(c.top[k].first, order[k]) << "rank " << k;
}

TEST(SamplerBasic, SamplingDrawsExactlyOneNumberPerToken) {
  Sampler sampler(SamplingParams{.temperature = 1.0f, .top_k = 1}, 4, {});
  std::vector<float> logits = {0.f, 2.f, 1.f, 0.f};
  for (int step = 0; step < 5; ++step) {
    std::vector<float> scratch = logits;
    EXPECT_EQ(sampler.sample(scratch.data()).id, 1);
  }
  EXPECT_EQ(sampler.rng_draws(), 5u);
}

TEST(SamplerBasic, ValidateNamesTheFlag) {
  EXPECT_EQ(validate_message(SamplingParams{}), "(no error)");
  EXPECT_EQ(validate_message(SamplingParams{.top_p = 1.5f}), "--top-p: 1.5 is not in (0, 1]");
  EXPECT_THAT(validate_message(SamplingParams{.top_p = 0.0f}), HasSubstr("--top-p: 0 is not in"));
  EXPECT_THAT(validate_message(SamplingParams{.top_p = NAN}), HasSubstr("--top-p:"));
  EXPECT_THAT(validate_message(SamplingParams{.temperature = -0.5f}),
              HasSubstr("--temperature: must be >= 0"));
  EXPECT_THAT(validate_message(SamplingParams{.temperature = INFINITY}),
              HasSubstr("--temperature:"));
  EXPECT_THAT(validate_message(SamplingParams{.top_k = -1}), HasSubstr("--top-k: must be >= 0"));
  EXPECT_EQ(validate_message(SamplingParams{.min_p = 1.0f}), "--min-p: 1 is not in [0, 1)");
  EXPECT_THAT(validate_message(SamplingParams{.repetition_penalty = 0.0f}),
              HasSubstr("--repetition-penalty: must be > 0"));
  EXPECT_EQ(validate_message(SamplingParams{.presence_penalty = 2.5f}),
            "--presence-penalty: 2.5 is not in [-2, 2]");
  EXPECT_EQ(validate_message(SamplingParams{.frequency_penalty = -3.0f}),
            "--frequency-penalty: -3 is not in [-2, 2]");
  EXPECT_THROW(Sampler(SamplingParams{.top_p = 2.0f}, 10, {}), Error);
}

TEST(SamplerBasic, TokenIdsOutsideTheVocabularyAreErrors) {
  const std::vector<int> prompt = {1, 10};
  try {
    Sampler sampler(SamplingParams{}, 10, prompt);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("token id 10 is outside the vocabulary [0, 10)"));
  }
  Sampler sampler(SamplingParams{}, 10, {});
  EXPECT_THROW(sampler.accept(-1), Error);
}

std::vector<int> run(const SamplingParams& params, int steps) {
  const auto logits = test::hashed_logits(5000, 3, 6.0f);
  Sampler sampler(params, int(logits.size()), {});
  std::vector<int> ids;
  std::vector<float> scratch;
  for (int s = 0; s < steps; ++s) {
    scratch = logits;
    ids.push_back(sampler.sample(scratch.data()).id);
  }
  return ids;
}

TEST(SamplerBasic, SameSeedSameSequenceDifferentSeedDifferentSequence) {
  const SamplingParams settings[] = {
      {.temperature = 1.0f},
      {.temperature = 0.8f, .top_k = 40},
      {.temperature = 1.0f, .top_p = 0.9f},
      {.temperature = 1.0f, .min_p = 0.05f, .repetition_penalty = 1.1f, .presence_penalty = 0.3f}};
  for (SamplingParams p : settings) {
    p.seed = 42;
    const auto a = run(p, 200);
    EXPECT_EQ(a, run(p, 200));
    p.seed = 43;
    EXPECT_NE(a, run(p, 200));
  }
}

TEST(SamplerBasic, LogprobsOffGivesSameIdsAndNaN) {
  SamplingParams on{.temperature = 1.0f, .top_p = 0.9f, .seed = 5};
  SamplingParams off = on;
  off.logprobs = false;
  const auto logits = test::hashed_logits(3000, 8, 5.0f);
  Sampler a(on, 3000, {}), b(off, 3000, {});
  for (int s = 0; s < 50; ++s) {
    std::vector<float> x = logits, y = logits;
    const TokenChoice ca = a.sample(x.data()), cb = b.sample(y.data(), 3);
    EXPECT_EQ(ca.id, cb.id);
    EXPECT_TRUE(std::isnan(cb.logprob_raw));
    EXPECT_TRUE(std::isnan(cb.logprob_processed));
    EXPECT_TRUE(cb.top.empty());
  }
}

// Not a pass/fail timing: prints the per-token cost on a Qwen2-sized vocabulary.
TEST(SamplerBasic, TimingOnQwenVocabulary) {
  const auto logits = test::hashed_logits(152064, 11, 30.0f);
  const SamplingParams settings[] = {
      {},
      {.logprobs = false},
      {.temperature = 0.7f},
      {.temperature = 0.7f, .top_k = 40},
      {.temperature = 0.7f, .top_p = 0.95f},
      {.temperature = 0.7f, .top_k = 40, .top_p = 0.9f, .min_p = 0.05f}};
  const char* names[] = {"greedy",   "greedy, no logprobs", "temperature",
                         "top-k 40", "top-p 0.95",          "top-k+top-p+min-p"};
  std::vector<float> scratch(logits.size());
  for (int s = 0; s < 6; ++s) {
    Sampler sampler(settings[s], int(logits.size()), {});
    const auto start = std::chrono::steady_clock::now();
    constexpr int kCalls = 20;
    for (int c = 0; c < kCalls; ++c) {
      scratch = logits;
      sampler.sample(scratch.data());
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count() /
        kCalls;
    std::printf("[ timing ] %-20s %8.1f us/token (V = 152064, incl. copying logits)\n", names[s],
                us);
  }
}

}  // namespace
}  // namespace qlm
