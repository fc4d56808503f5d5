// Teacher-forced scoring in chunks.
#include "runtime/score.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace qlm {

double log_prob_of(const float* logits, int n, int target) {
  float mx = logits[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  return static_cast<double>(logits[target]) - mx - std::log(sum);
}

std::vector<double> score_tokens(const Transformer& model, std::span<const int> ids, int chunk) {
  const ModelConfig& cfg = model.config();
  if (ids.size() < 2) fail("scoring needs at least 2 tokens (a prefix and one token to score)");
  const int n = static_cast<int>(ids.size());
  KVCache cache(cfg, n);
  ForwardScratch scratch = model.make_scratch(std::min(chunk, n));
  std::vector<float> logits(static_cast<size_t>(scratch.max_tokens) * cfg.vocab_size);
  std::vector<double> out;
  out.reserve(n - 1);
  // Positions 0 .. n-2 predict tokens 1 .. n-1; the last token needs no forward.
  for (int start = 0; start < n - 1; start += scratch.max_tokens) {
    const int len = std::min(scratch.max_tokens, n - 1 - start);
    model.forward(cache, scratch, ids.subspan(start, len), logits.data(), /*all_logits=*/true);
    for (int t = 0; t < len; ++t)
      out.push_back(log_prob_of(&logits[static_cast<size_t>(t) * cfg.vocab_size], cfg.vocab_size,
                                ids[start + t + 1]));
  }
  return out;
}

}  // namespace qlm
