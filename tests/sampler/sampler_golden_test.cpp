// Exact checks against scripts/sampler_reference.py: penalised logits, greedy choice,
// raw/processed log-probs, top-n, the kept set on large vocabularies, and the RNG stream.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "sampler/rng.h"
#include "sampler_test_util.h"

namespace qlm {
namespace {

using test::golden;

TEST(SamplerGolden, PenaltiesGreedyAndLogprobsMatchReference) {
  int n = 0;
  for (const auto& c : golden()["penalty_cases"]) {
    SCOPED_TRACE("penalty case " + std::to_string(n++));
    const int vocab = c["vocab"];
    const auto prompt = c["prompt"].get<std::vector<int>>();
    Sampler sampler(test::params_from_json(c["params"]), vocab, prompt);
    for (int id : c["output"]) sampler.accept(id);
    auto logits = c["logits"].get<std::vector<float>>();
    const TokenChoice choice = sampler.sample(logits.data(), 5);

    const auto penalised = c["penalised"].get<std::vector<float>>();
    for (int i = 0; i < vocab; ++i) ASSERT_NEAR(logits[i], penalised[i], 1e-6) << "token " << i;
    EXPECT_EQ(choice.id, c["greedy_id"].get<int>());
    EXPECT_NEAR(choice.logprob_raw, c["lp_raw"].get<double>(), 1e-5);
    EXPECT_NEAR(choice.logprob_processed, c["lp_processed"].get<double>(), 1e-5);
    ASSERT_EQ(choice.top.size(), 5u);
    for (int k = 0; k < 5; ++k) {
      EXPECT_EQ(choice.top[k].first, c["top"][k][0].get<int>());
      EXPECT_NEAR(choice.top[k].second, c["top"][k][1].get<double>(), 1e-5);
    }
    EXPECT_EQ(sampler.rng_draws(), 0u);
  }
  EXPECT_GE(n, 10);
}

// Each draw uses a fresh Sampler (seed = draw index) so the token history, and with it the
// penalties, stays the reference's.
TEST(SamplerGolden, LargeVocabDrawsStayInKeptSetWithReferenceLogprobs) {
  int n = 0;
  for (const auto& c : golden()["sampling_cases"]) {
    SCOPED_TRACE("sampling case " + std::to_string(n++));
    const int vocab = c["vocab"];
    const auto raw = test::hashed_logits(vocab, c["hash_seed"], c["scale"].get<float>());
    SamplingParams params = test::params_from_json(c["params"]);
    const float t = params.temperature;
    const int last = c["last_kept"];
    const double s_max = c["s_max"], log_z = c["log_z_kept"], lse_raw = c["lse_raw"];
    std::set<int> drawn;
    for (int d = 0; d < 300; ++d) {
      params.seed = d;
      Sampler sampler(params, vocab, c["prompt"].get<std::vector<int>>());
      for (int id : c["output"]) sampler.accept(id);
      std::vector<float> logits = raw;
      const TokenChoice choice = sampler.sample(logits.data());
      const int id = choice.id;
      // In the kept set: ranks at or before its last member in (logit desc, id asc) order.
      const bool kept = logits[id] > logits[last] || (logits[id] == logits[last] && id <= last);
      ASSERT_TRUE(kept) << "drew " << id << " outside the kept set";
      const double lp = double(float(logits[id] / t) - float(s_max)) - log_z;
      ASSERT_NEAR(choice.logprob_processed, lp, 1e-5);
      ASSERT_NEAR(choice.logprob_raw, double(raw[id]) - lse_raw, 1e-5);
      drawn.insert(id);
    }
    EXPECT_LE(int(drawn.size()), c["n_kept"].get<int>());
    if (c["n_kept"].get<int>() > 1) {
      EXPECT_GT(drawn.size(), 1u);
    }
  }
}

TEST(SamplerGolden, RngStreamMatchesReference) {
  for (const auto& c : golden()["rng"]) {
    Xoshiro256 rng(c["seed"].get<uint64_t>());
    for (const auto& out : c["outputs"]) EXPECT_EQ(rng.next(), std::stoull(out.get<std::string>()));
  }
}

}  // namespace
}  // namespace qlm
