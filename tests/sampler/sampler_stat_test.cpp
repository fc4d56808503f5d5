// Statistical tests: 200k fixed-seed draws per setting against the reference's analytic
// distribution (chi-square at p ~ 1e-6), and filtered-out tokens are never drawn.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "sampler_test_util.h"

namespace qlm {
namespace {

constexpr int kDraws = 200000;

std::vector<int> draw_counts(const SamplingParams& params, const std::vector<float>& logits) {
  Sampler sampler(params, int(logits.size()), {});
  std::vector<int> counts(logits.size(), 0);
  std::vector<float> scratch(logits.size());
  for (int d = 0; d < kDraws; ++d) {
    scratch = logits;
    ++counts[sampler.sample(scratch.data()).id];
  }
  return counts;
}

// Pearson's statistic over bins with expected count >= 5 (the rest pooled into one bin).
// Returns {statistic, degrees of freedom}.
std::pair<double, int> chi_square(const std::vector<int>& counts, const std::vector<double>& p, int draws = kDraws) {
  double stat = 0.0, pooled_expected = 0.0, pooled_observed = 0.0;
  int bins = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double expected = p[i] * draws;
    if (p[i] == 0.0) continue;
    if (expected < 5.0) {
      pooled_expected += expected;
      pooled_observed += counts[i];
      continue;
    }
    stat += (counts[i] - expected) * (counts[i] - expected) / expected;
    ++bins;
  }
  if (pooled_expected > 0.0) {
    stat +=
        (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++bins;
  }
  return {stat, bins - 1};
}

// Upper 1e-6 quantile of chi-square(df) by the Wilson-Hilferty approximation (z = 4.753).
double chi_square_critical(int df) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + 4.753 * std::sqrt(a), 3);
}

TEST(SamplerStat, EmpiricalMatchesAnalyticAndFilteredTokensNeverDrawn) {
  for (const auto& c : test::golden()["stat_cases"]) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    const auto logits = c["logits"].get<std::vector<float>>();
    const auto probs = c["probs"].get<std::vector<double>>();
    SamplingParams params = test::params_from_json(c["params"]);
    params.seed = 12345;
    const auto counts = draw_counts(params, logits);
    for (size_t i = 0; i < probs.size(); ++i)
      if (probs[i] == 0.0) {
        EXPECT_EQ(counts[i], 0) << "filtered token " << i << " was drawn";
      }
    const auto [stat, df] = chi_square(counts, probs);
    ASSERT_GE(df, 1);
    EXPECT_LT(stat, chi_square_critical(df)) << "df " << df;
  }
}

// A second, C++-side oracle for the pure-temperature settings: softmax(logits / T).
TEST(SamplerStat, ReferenceTemperatureDistributionIsSoftmax) {
  int checked = 0;
  for (const auto& c : test::golden()["stat_cases"]) {
    const auto& p = c["params"];
    if (p["top_k"] != 0 || p["top_p"] != 1.0 || p["min_p"] != 0.0) continue;
    const auto logits = c["logits"].get<std::vector<float>>();
    const auto probs = c["probs"].get<std::vector<double>>();
    const double t = p["temperature"];
    double z = 0.0;
    for (float l : logits) z += std::exp(l / t);
    for (size_t i = 0; i < logits.size(); ++i)
      EXPECT_NEAR(probs[i], std::exp(logits[i] / t) / z, 1e-6);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

// Top-p over thousands of near-equal tokens (the histogram nucleus, nucleus.h): the draws
// follow the reference's kept set and weights. Large-vocabulary cases without penalties (so
// one sampler serves every draw); the expected probability of a kept token is its weight
// exp(float(l / T) - s_max) over the reference's kept mass.
TEST(SamplerStat, FlatNucleusDrawsFollowTheReferenceDistribution) {
  constexpr int kNucleusDraws = 60000;
  int checked = 0;
  for (const auto& c : test::golden()["sampling_cases"]) {
    SamplingParams params = test::params_from_json(c["params"]);
    if (params.top_p >= 1.0f || params.top_k > 0 || params.repetition_penalty != 1.0f ||
        params.frequency_penalty != 0.0f || params.presence_penalty != 0.0f)
      continue;
    const int vocab = c["vocab"], last = c["last_kept"];
    if (c["n_kept"].get<int>() <= 4096) continue;  // the sorted path: covered above
    SCOPED_TRACE("top_p " + std::to_string(params.top_p));
    const auto logits = test::hashed_logits(vocab, c["hash_seed"], c["scale"].get<float>());
    const double s_max = c["s_max"], log_z = c["log_z_kept"];
    std::vector<double> p(vocab, 0.0);
    for (int i = 0; i < vocab; ++i)
      if (logits[i] > logits[last] || (logits[i] == logits[last] && i <= last))
        p[i] = std::exp(double(float(logits[i] / params.temperature) - float(s_max)) - log_z);
    params.seed = 99;
    Sampler sampler(params, vocab, {});
    std::vector<int> counts(vocab, 0);
    std::vector<float> scratch(vocab);
    for (int d = 0; d < kNucleusDraws; ++d) {
      scratch = logits;
      ++counts[sampler.sample(scratch.data()).id];
    }
    for (int i = 0; i < vocab; ++i)
      if (p[i] == 0.0) {
        EXPECT_EQ(counts[i], 0) << "token " << i << " outside the nucleus was drawn";
      }
    const auto [stat, df] = chi_square(counts, p, kNucleusDraws);
    EXPECT_LT(stat, chi_square_critical(df)) << "df " << df;
    // Per token, ~8 draws each cannot see a bias of a few percent; 32 groups (16 quantiles of
    // the probability x id parity) can: a skew with the weight, or between ids walked in order.
    std::vector<int> kept;
    for (int i = 0; i < vocab; ++i)
      if (p[i] > 0.0) kept.push_back(i);
    std::stable_sort(kept.begin(), kept.end(), [&](int a, int b) { return p[a] < p[b]; });
    std::vector<int> group_counts(32, 0);
    std::vector<double> group_p(32, 0.0);
    for (size_t r = 0; r < kept.size(); ++r) {
      const int g = int(r * 16 / kept.size()) * 2 + kept[r] % 2;
      group_counts[g] += counts[kept[r]];
      group_p[g] += p[kept[r]];
    }
    const auto [group_stat, group_df] = chi_square(group_counts, group_p, kNucleusDraws);
    EXPECT_LT(group_stat, chi_square_critical(group_df)) << "groups, df " << group_df;
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

// The test has power: draws at T = 0.7 are rejected against the T = 1.5 distribution, and a
// 2% shift of mass between two tokens is caught.
TEST(SamplerStat, ChiSquareRejectsWrongDistributions) {
  const auto& cases = test::golden()["stat_cases"];
  const auto logits = cases[0]["logits"].get<std::vector<float>>();
  std::vector<double> p07, p15;
  for (const auto& c : cases) {
    if (c["name"] == "temp_0.7") p07 = c["probs"].get<std::vector<double>>();
    if (c["name"] == "temp_1.5") p15 = c["probs"].get<std::vector<double>>();
  }
  ASSERT_FALSE(p07.empty());
  ASSERT_FALSE(p15.empty());
  const auto counts = draw_counts(SamplingParams{.temperature = 0.7f, .seed = 7}, logits);
  const auto [stat, df] = chi_square(counts, p15);
  EXPECT_GT(stat, chi_square_critical(df));
  std::vector<double> shifted = p07;
  shifted[0] -= 0.02;
  shifted[1] += 0.02;
  const auto [stat2, df2] = chi_square(counts, shifted);
  EXPECT_GT(stat2, chi_square_critical(df2));
}

}  // namespace
}  // namespace qlm
