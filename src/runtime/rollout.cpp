// Continuous batching over prompts and samples.
#include "runtime/rollout.h"

#include <algorithm>
#include <deque>
#include <memory>

#include "base/error.h"
#include "base/timer.h"

namespace qlm {

uint64_t sample_seed(uint64_t seed, const std::string& request_id, int sample) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the id, then mixed with seed and sample
  for (unsigned char c : request_id) h = (h ^ c) * 1099511628211ull;
  uint64_t z = seed ^ h ^ (static_cast<uint64_t>(sample) * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {

struct Sequence {
  size_t request;
  int sample;
  std::unique_ptr<KVCache> cache;
  std::unique_ptr<Sampler> sampler;
  Completion done;
  int next_token = -1;  // sampled, not yet run through the model
  Timer timer;
};

// A prompt being prefilled chunk by chunk.
struct Admission {
  size_t request;
  std::unique_ptr<KVCache> cache;
  size_t prefilled = 0;
  Timer timer;
};

}  // namespace

RolloutEngine::RolloutEngine(const Transformer& model, RolloutParams params) : model_(model), params_(std::move(params)) {
  validate(params_.sampling);
  if (params_.samples_per_prompt < 1) fail("--samples-per-prompt: must be at least 1");
  if (params_.max_batch < 1) fail("--max-batch: must be at least 1");
  if (params_.max_new_tokens < 1) fail("--max-tokens: must be at least 1");
}

RolloutStats RolloutEngine::run(const std::vector<RolloutRequest>& requests,
                                const std::function<void(const Completion&)>& on_complete) {
  const ModelConfig& cfg = model_.config();
  const int V = cfg.vocab_size;
  RolloutStats stats;
  Timer total;
  std::deque<size_t> pending;
  for (size_t i = 0; i < requests.size(); ++i) {
    const size_t n = static_cast<int>(requests[i].prompt_ids.size());
    if (n == 0) fail("request '", requests[i].id, "': the prompt is empty");
    if (static_cast<int>(n) + 1 > cfg.max_position_embeddings)
      fail("request '", requests[i].id, "': the prompt (", n, " tokens) does not fit the context of ",
           cfg.max_position_embeddings);
    pending.push_back(i);
  }
  const int max_rows = std::max(params_.max_batch, params_.prefill_chunk);
  ForwardScratch scratch = model_.make_scratch(max_rows);
  std::vector<float> logits(static_cast<size_t>(max_rows) * V);
  std::vector<float> row_logits(V);
  std::vector<std::unique_ptr<Sequence>> active;
  std::unique_ptr<Admission> admitting;

  auto samples_of = [&](const RolloutRequest& r) {
    std::vector<int> s = r.sample_indices;
    if (s.empty())
      for (int k = 0; k < params_.samples_per_prompt; ++k) s.push_back(k);
    return s;
  };
  // Chooses a sequence's next token from its logits and records it; true when it has finished.
  auto step_sequence = [&](Sequence& q, const float* lg) {
    std::copy_n(lg, V, row_logits.data());  // the sampler edits its logits
    TokenChoice c = q.sampler->sample(row_logits.data(), params_.top_logprobs);
    q.done.ids.push_back(c.id);
    q.done.logprobs.push_back(params_.logprobs == LogprobMode::Raw ? c.logprob_raw : c.logprob_processed);
    if (params_.top_logprobs > 0) q.done.top.push_back(std::move(c.top));
    q.next_token = c.id;
    ++stats.generated_tokens;
    const bool stop = std::find(params_.stop_ids.begin(), params_.stop_ids.end(), c.id) != params_.stop_ids.end();
    const bool full = static_cast<int>(q.done.ids.size()) >= params_.max_new_tokens ||
                      q.cache->size() + 1 >= q.cache->capacity();
    if (stop || full) {
      q.done.finish_reason = stop ? "stop" : "length";
      q.done.seconds = q.timer.seconds();
      return true;
    }
    return false;
  };

  while (!pending.empty() || admitting || !active.empty()) {
    // Admit the next prompt when its N samples will fit the batch.
    if (!admitting && !pending.empty()) {
      const RolloutRequest& r = requests[pending.front()];
      if (static_cast<int>(active.size() + samples_of(r).size()) <= params_.max_batch || active.empty()) {
        admitting = std::make_unique<Admission>();
        admitting->request = pending.front();
        const int cap = std::min<int>(cfg.max_position_embeddings, static_cast<int>(r.prompt_ids.size()) + 1);
        admitting->cache = std::make_unique<KVCache>(cfg, cap);
        pending.pop_front();
      }
    }
    // One forward: a decode row for every active sequence, plus a chunk of the admitting prompt.
    scratch.rows.clear();
    scratch.logit_rows.clear();
    for (auto& q : active) {
      scratch.logit_rows.push_back(static_cast<int>(scratch.rows.size()));
      scratch.rows.push_back(BatchRow{q->cache.get(), q->cache->size(), q->next_token});
    }
    size_t chunk = 0;
    bool prompt_done = false;
    if (admitting) {
      const std::vector<int>& ids = requests[admitting->request].prompt_ids;
      const int room = max_rows - static_cast<int>(scratch.rows.size());
      chunk = std::min<size_t>({static_cast<size_t>(params_.prefill_chunk), ids.size() - admitting->prefilled,
                                static_cast<size_t>(std::max(room, 0))});
      for (size_t i = 0; i < chunk; ++i)
        scratch.rows.push_back(BatchRow{admitting->cache.get(), static_cast<int>(admitting->prefilled + i),
                                        ids[admitting->prefilled + i]});
      prompt_done = chunk > 0 && admitting->prefilled + chunk == ids.size();
      if (prompt_done) scratch.logit_rows.push_back(static_cast<int>(scratch.rows.size()) - 1);
    }
    if (scratch.rows.empty()) continue;
    stats.max_batch_seen = std::max(stats.max_batch_seen, static_cast<int>(active.size()));
    model_.forward_batch(scratch, logits.data());

    // Decode rows: sample, and retire finished sequences.
    std::vector<std::unique_ptr<Sequence>> still;
    for (size_t i = 0; i < active.size(); ++i) {
      Sequence& q = *active[i];
      if (step_sequence(q, &logits[i * V])) on_complete(q.done);
      else still.push_back(std::move(active[i]));
    }
    active = std::move(still);

    // A fully prefilled prompt forks into its samples, which take their first token now.
    if (admitting) {
      admitting->prefilled += chunk;
      if (prompt_done) {
        const RolloutRequest& r = requests[admitting->request];
        const float* lg = &logits[(scratch.logit_rows.size() - 1) * V];
        ++stats.prefills;
        stats.prompt_tokens += static_cast<int64_t>(r.prompt_ids.size());
        const int n = static_cast<int>(r.prompt_ids.size());
        const int cap = std::min(cfg.max_position_embeddings, n + params_.max_new_tokens + 1);
        for (int k : samples_of(r)) {
          auto q = std::make_unique<Sequence>();
          q->request = admitting->request;
          q->sample = k;
          q->cache = std::make_unique<KVCache>(cfg, cap);
          q->cache->copy_prefix_from(*admitting->cache, n);
          SamplingParams sp = params_.sampling;
          sp.seed = sample_seed(params_.sampling.seed, r.id, k);
          q->sampler = std::make_unique<Sampler>(sp, V, r.prompt_ids);
          q->done.request = admitting->request;
          q->done.sample = k;
          q->timer = admitting->timer;
          if (step_sequence(*q, lg)) on_complete(q->done);
          else active.push_back(std::move(q));
        }
        admitting.reset();
      }
    }
  }
  stats.seconds = total.seconds();
  return stats;
}

}  // namespace qlm
