// Teacher-forced scoring in chunks.
#include "runtime/score.h"

#include <algorithm>
#include <cmath>
#include <memory>

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
  if (ids.size() > static_cast<size_t>(cfg.max_position_embeddings))  // also bounds the KV cache below
    fail("score: ", ids.size(), " tokens, more than the context length ", cfg.max_position_embeddings);
  const int n = static_cast<int>(ids.size());
  KVCache cache(cfg, n, model.kv_dtype());
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

std::vector<std::vector<double>> score_completions(const Transformer& model,
                                                   const std::vector<std::vector<int>>& prompts,
                                                   const std::vector<std::vector<int>>& completions, int max_rows) {
  const ModelConfig& cfg = model.config();
  const int V = cfg.vocab_size;
  QLM_CHECK(prompts.size() == completions.size());
  struct Seq {
    std::vector<int> ids;  // prompt + completion
    size_t n_prompt;
    std::unique_ptr<KVCache> cache;
    size_t fed = 0;  // tokens run through the model
  };
  std::vector<Seq> seqs(prompts.size());
  std::vector<std::vector<double>> out(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) fail("score: pair ", i, " has an empty prompt");
    Seq& q = seqs[i];
    q.ids = prompts[i];
    q.ids.insert(q.ids.end(), completions[i].begin(), completions[i].end());
    q.n_prompt = prompts[i].size();
    if (static_cast<int>(q.ids.size()) > cfg.max_position_embeddings)
      fail("score: pair ", i, " has ", q.ids.size(), " tokens, more than the context length ", cfg.max_position_embeddings);
  }
  ForwardScratch s = model.make_scratch(max_rows);
  std::vector<float> logits(static_cast<size_t>(max_rows) * V);
  struct Want {
    size_t seq, target;  // logits of this row predict seqs[seq].ids[target]
  };
  std::vector<Want> wants;
  size_t next = 0;  // first sequence not finished
  while (next < seqs.size()) {
    s.rows.clear();
    s.logit_rows.clear();
    wants.clear();
    // Fill the batch with the next tokens of as many sequences as fit, in order.
    for (size_t i = next; i < seqs.size() && static_cast<int>(s.rows.size()) < max_rows; ++i) {
      Seq& q = seqs[i];
      const size_t last = q.ids.size() - 1;  // the final token predicts nothing
      if (q.fed >= last) continue;
      if (!q.cache)
        q.cache = std::make_unique<KVCache>(cfg, static_cast<int>(q.ids.size()), model.kv_dtype());
      while (q.fed < last && static_cast<int>(s.rows.size()) < max_rows) {
        if (q.fed + 1 >= q.n_prompt) {
          s.logit_rows.push_back(static_cast<int>(s.rows.size()));
          wants.push_back({i, q.fed + 1});
        }
        s.rows.push_back(BatchRow{q.cache.get(), static_cast<int>(q.fed), q.ids[q.fed]});
        ++q.fed;
      }
    }
    if (!s.rows.empty()) model.forward_batch(s, logits.data());
    for (size_t k = 0; k < wants.size(); ++k)
      out[wants[k].seq].push_back(log_prob_of(&logits[k * V], V, seqs[wants[k].seq].ids[wants[k].target]));
    while (next < seqs.size() && seqs[next].fed + 1 >= seqs[next].ids.size()) {
      seqs[next].cache.reset();  // done: free its cache
      ++next;
    }
  }
  return out;
}

}  // namespace qlm
