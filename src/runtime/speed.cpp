// Timing loops.
#include "runtime/speed.h"

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "base/timer.h"
#include "runtime/greedy.h"

namespace qlm {

namespace {
std::vector<int> random_ids(int n, int vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> ids(static_cast<size_t>(n));
  for (int& id : ids) id = static_cast<int>(rng() % static_cast<uint64_t>(vocab));
  return ids;
}

void prefill(const Transformer& model, KVCache& cache, ForwardScratch& s, const std::vector<int>& ids, float* logits) {
  for (size_t start = 0; start < ids.size(); start += s.max_tokens) {
    const size_t len = std::min<size_t>(s.max_tokens, ids.size() - start);
    model.forward(cache, s, std::span<const int>(ids).subspan(start, len), logits, false);
  }
}
}  // namespace

SpeedSample measure_speed(const Transformer& model, int prompt_tokens, int gen_tokens, int depth, uint64_t seed) {
  const ModelConfig& cfg = model.config();
  const int capacity = std::max(prompt_tokens, std::max(depth, 1) + gen_tokens) + 1;
  KVCache cache(cfg, capacity, model.kv_dtype());
  ForwardScratch s = model.make_scratch(std::min(512, std::max(prompt_tokens, depth) + 1));
  std::vector<float> logits(cfg.vocab_size);
  SpeedSample out;
  if (prompt_tokens > 0) {
    std::vector<int> ids = random_ids(prompt_tokens, cfg.vocab_size, seed);
    Timer t;
    prefill(model, cache, s, ids, logits.data());
    argmax(logits.data(), cfg.vocab_size);
    out.ttft_seconds = t.seconds();
    out.prefill_tok_per_s = prompt_tokens / out.ttft_seconds;
  }
  if (gen_tokens > 0) {
    cache.clear();
    prefill(model, cache, s, random_ids(std::max(depth, 1), cfg.vocab_size, seed + 1), logits.data());
    Timer t;
    for (int i = 0; i < gen_tokens; ++i) {
      const int next = argmax(logits.data(), cfg.vocab_size);
      model.forward(cache, s, std::span<const int>(&next, 1), logits.data(), false);
    }
    out.decode_tok_per_s = gen_tokens / t.seconds();
  }
  return out;
}

double measure_batched_decode(const Transformer& model, int batch, int gen_tokens, int depth, uint64_t seed) {
  const ModelConfig& cfg = model.config();
  const int V = cfg.vocab_size;
  const int prompt = std::max(depth, 1);
  const int capacity = prompt + gen_tokens + 2;
  KVCache shared(cfg, capacity, model.kv_dtype());
  ForwardScratch s = model.make_scratch(std::max(batch, std::min(512, prompt)));
  std::vector<float> logits(static_cast<size_t>(std::max(batch, 1)) * V);
  prefill(model, shared, s, random_ids(prompt, V, seed), logits.data());
  std::vector<std::unique_ptr<KVCache>> caches;
  for (int b = 0; b < batch; ++b) {
    caches.push_back(std::make_unique<KVCache>(cfg, capacity, model.kv_dtype()));
    caches.back()->copy_prefix_from(shared, prompt);
  }
  std::vector<int> next = random_ids(batch, V, seed + 7);
  Timer t;
  for (int step = 0; step < gen_tokens; ++step) {
    s.rows.clear();
    s.logit_rows.clear();
    for (int b = 0; b < batch; ++b) {
      s.logit_rows.push_back(b);
      s.rows.push_back(BatchRow{caches[b].get(), caches[b]->size(), next[b]});
    }
    model.forward_batch(s, logits.data());
    for (int b = 0; b < batch; ++b) next[b] = argmax(&logits[static_cast<size_t>(b) * V], V);
  }
  return static_cast<double>(batch) * gen_tokens / t.seconds();
}

double decode_bytes_per_token(const Transformer& model, int depth) {
  const ModelConfig& cfg = model.config();
  const double kv = 2.0 * cfg.num_layers * static_cast<double>(depth) * cfg.kv_dim() * sizeof(float);
  return static_cast<double>(model.weights().bytes_per_token()) + kv;
}

}  // namespace qlm
