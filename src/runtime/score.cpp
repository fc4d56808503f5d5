// Teacher-forced scoring in chunks.
#include "runtime/score.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>

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
  check_token_ids(ids, cfg.vocab_size, "score");
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

namespace {

// A run of tokens through the model: a pair's prompt + completion, or a prompt its pairs share.
struct ScoreSeq {
  std::vector<int> ids;
  size_t n_prompt = 0;
  size_t stop = 0;  // tokens to feed (a pair's last token predicts nothing)
  size_t fed = 0;   // tokens run through the model
  std::shared_ptr<KVCache> cache;
  size_t pair = 0;              // a pair's index in the output
  bool waits = false;           // a pair whose cache comes from its shared prompt's
  std::vector<size_t> members;  // a shared prompt's pairs (indices into the sequence list)
};

// Groups the pairs by prompt, in order of first appearance: a prompt of two or more pairs is
// prefilled once and its pairs follow it (their caches forked from its cache); the others
// run alone, prompt and completion together. Pairs with an empty completion score nothing.
std::vector<ScoreSeq> plan_sequences(const std::vector<std::vector<int>>& prompts,
                                     const std::vector<std::vector<int>>& completions) {
  std::map<std::vector<int>, std::vector<size_t>> by_prompt;
  std::vector<const std::vector<size_t>*> order;
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (completions[i].empty()) continue;
    auto [it, added] = by_prompt.try_emplace(prompts[i]);
    if (added) order.push_back(&it->second);
    it->second.push_back(i);
  }
  std::vector<ScoreSeq> seqs;
  for (const std::vector<size_t>* pairs : order) {
    const std::vector<int>& prompt = prompts[pairs->front()];
    const bool shared = pairs->size() > 1;
    const size_t job = seqs.size();  // the shared prefill's place, when there is one
    if (shared) {
      ScoreSeq& q = seqs.emplace_back();
      q.ids = prompt;
      q.n_prompt = q.stop = prompt.size();
    }
    for (size_t i : *pairs) {
      if (shared) seqs[job].members.push_back(seqs.size());
      ScoreSeq& q = seqs.emplace_back();
      q.ids = prompt;
      q.ids.insert(q.ids.end(), completions[i].begin(), completions[i].end());
      q.n_prompt = prompt.size();
      q.stop = q.ids.size() - 1;
      q.pair = i;
      q.waits = shared;
      if (shared) q.fed = q.n_prompt;  // its prompt's rows are the shared prefill's
    }
  }
  return seqs;
}

}  // namespace

std::vector<std::vector<double>> score_completions(const Transformer& model,
                                                   const std::vector<std::vector<int>>& prompts,
                                                   const std::vector<std::vector<int>>& completions, int max_rows,
                                                   const ScoreProgress& progress, const ScoreDone& done) {
  const ModelConfig& cfg = model.config();
  const int V = cfg.vocab_size;
  QLM_CHECK(prompts.size() == completions.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty())
      fail("score: pair ", i, " has an empty prompt (the first completion token needs a context)");
    check_token_ids(prompts[i], cfg.vocab_size, cat("score: pair ", i));
    check_token_ids(completions[i], cfg.vocab_size, cat("score: pair ", i));
    const size_t n = prompts[i].size() + completions[i].size();
    if (static_cast<int64_t>(n) > cfg.max_position_embeddings)
      fail("score: pair ", i, " has ", n, " tokens, more than the context length ", cfg.max_position_embeddings);
  }
  std::vector<ScoreSeq> seqs = plan_sequences(prompts, completions);
  int64_t rows_total = 0, rows_done = 0;
  for (const ScoreSeq& q : seqs) rows_total += static_cast<int64_t>(q.stop - q.fed);
  if (progress) progress(0, rows_total);
  std::vector<std::vector<double>> out(prompts.size());
  if (done)
    for (size_t i = 0; i < prompts.size(); ++i)
      if (completions[i].empty()) done(i, out[i]);  // nothing to score
  ForwardScratch s = model.make_scratch(max_rows);
  std::vector<float> logits(static_cast<size_t>(max_rows) * V);
  struct Want {
    size_t pair;
    int target;  // the token whose log-prob the logits row gives
    size_t row;  // index into the step's logits
  };
  std::vector<Want> wants;
  std::vector<size_t> prefilled;  // shared prompts whose last row is in this step
  size_t next = 0;                // first sequence not finished
  while (next < seqs.size()) {
    s.rows.clear();
    s.logit_rows.clear();
    wants.clear();
    prefilled.clear();
    // Fill the batch with the next tokens of as many sequences as fit, in order.
    for (size_t i = next; i < seqs.size() && static_cast<int>(s.rows.size()) < max_rows; ++i) {
      ScoreSeq& q = seqs[i];
      if (q.fed >= q.stop || (q.waits && !q.cache)) continue;
      if (!q.cache) q.cache = std::make_shared<KVCache>(cfg, static_cast<int>(q.ids.size()), model.kv_dtype());
      while (q.fed < q.stop && static_cast<int>(s.rows.size()) < max_rows) {
        if (q.fed + 1 >= q.n_prompt) {  // predicts a completion token
          const size_t row = s.logit_rows.size();
          s.logit_rows.push_back(static_cast<int>(s.rows.size()));
          if (q.members.empty()) wants.push_back({q.pair, q.ids[q.fed + 1], row});
          for (size_t m : q.members) wants.push_back({seqs[m].pair, seqs[m].ids[q.n_prompt], row});
        }
        s.rows.push_back(BatchRow{q.cache.get(), static_cast<int>(q.fed), q.ids[q.fed]});
        ++q.fed;
      }
      if (!q.members.empty() && q.fed == q.stop) prefilled.push_back(i);
    }
    if (!s.rows.empty()) model.forward_batch(s, logits.data());
    rows_done += static_cast<int64_t>(s.rows.size());
    if (progress) progress(rows_done, rows_total);
    for (const Want& w : wants) {
      out[w.pair].push_back(log_prob_of(&logits[w.row * V], V, w.target));
      if (done && out[w.pair].size() == completions[w.pair].size()) done(w.pair, out[w.pair]);
    }
    for (size_t i : prefilled) {  // its pairs continue in forks of its cache
      const std::shared_ptr<const KVCache> prompt = seqs[i].cache;
      for (size_t m : seqs[i].members)
        seqs[m].cache = std::make_shared<KVCache>(prompt, static_cast<int>(seqs[m].n_prompt),
                                                  static_cast<int>(seqs[m].ids.size()));
      seqs[i].cache.reset();  // the forks hold what they share
    }
    while (next < seqs.size() && seqs[next].fed >= seqs[next].stop && !(seqs[next].waits && !seqs[next].cache)) {
      seqs[next].cache.reset();  // done: free its cache
      ++next;
    }
  }
  return out;
}

}  // namespace qlm
