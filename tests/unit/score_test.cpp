// score_completions on stories260K (../shared/data): pairs that share a prompt (prefilled once,
// then forked; a 300-token prompt shares a whole KV span) give, bit for bit, what scoring each
// pair's tokens alone gives (score_tokens, the single-sequence path), whatever the batch size
// and with either KV cache dtype; the per-pair callback reports each pair once, complete.
#include "runtime/score.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace qlm {
namespace {

std::string stories() {
  const std::string dir = std::string(QLM_SHARED_DATA) + "/models/stories260K";
  return std::filesystem::exists(dir) ? dir : "";
}

std::vector<int> tokens(int n, int salt) {
  std::vector<int> ids{1};
  for (int i = 1; i < n; ++i) ids.push_back(3 + (i * 37 + salt * 101) % 500);
  return ids;
}

TEST(ScoreCompletions, SharedPromptsEqualEachPairAlone) {
  if (stories().empty()) GTEST_SKIP() << "shared data not found: stories260K";
  auto model = Transformer::load(stories());
  const std::vector<int> long_prompt = tokens(300, 1), short_prompt = tokens(5, 2), lone = tokens(9, 3);
  // Interleaved on purpose: pairs of one prompt need not be next to each other.
  const std::vector<std::vector<int>> prompts = {long_prompt, short_prompt, long_prompt, lone,
                                                 short_prompt, long_prompt, short_prompt};
  const std::vector<std::vector<int>> completions = {tokens(40, 4), tokens(12, 5), tokens(1, 6), tokens(7, 7),
                                                     {},            tokens(25, 8), tokens(3, 9)};
  for (KvDtype d : {KvDtype::f32, KvDtype::f16}) {
    model->set_kv_dtype(d);
    std::vector<std::vector<double>> want;
    for (size_t i = 0; i < prompts.size(); ++i) {
      std::vector<int> ids = prompts[i];
      ids.insert(ids.end(), completions[i].begin(), completions[i].end());
      if (completions[i].empty()) {
        want.emplace_back();
        continue;
      }
      const std::vector<double> all = score_tokens(*model, ids);
      want.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(prompts[i].size() - 1), all.end());
    }
    for (int max_rows : {64, 7, 1}) {
      // The streaming callback reports each pair once, with its final log-probs.
      std::vector<std::vector<double>> streamed(prompts.size());
      std::vector<int> reports(prompts.size(), 0);
      const auto got = score_completions(*model, prompts, completions, max_rows, {},
                                         [&](size_t pair, const std::vector<double>& lp) {
                                           ++reports.at(pair);
                                           streamed[pair] = lp;
                                         });
      ASSERT_EQ(got.size(), prompts.size());
      for (size_t i = 0; i < prompts.size(); ++i) {
        ASSERT_EQ(got[i].size(), completions[i].size()) << i;
        EXPECT_EQ(got[i], want[i]) << kv_dtype_name(d) << " pair " << i << " max_rows " << max_rows;
        EXPECT_EQ(reports[i], 1) << "pair " << i << " max_rows " << max_rows;
        EXPECT_EQ(streamed[i], want[i]) << "pair " << i << " max_rows " << max_rows;
      }
    }
  }
}

}  // namespace
}  // namespace qlm
