// Greedy decoding loop.
#include "runtime/greedy.h"

#include <algorithm>

#include "base/error.h"

namespace qlm {

int argmax(const float* x, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

std::vector<int> generate_greedy(const Transformer& model, std::span<const int> prompt,
                                 const GreedyParams& params, const std::function<void(int)>& on_token) {
  const ModelConfig& cfg = model.config();
  if (prompt.empty()) fail("the prompt is empty: give at least one token id");
  const int capacity = static_cast<int>(prompt.size()) + params.max_new_tokens;
  if (capacity > cfg.max_position_embeddings)
    fail("prompt (", prompt.size(), " tokens) + max tokens (", params.max_new_tokens,
         ") exceeds the context length ", cfg.max_position_embeddings);
  KVCache cache(cfg, capacity);
  ForwardScratch scratch = model.make_scratch(std::min<int>(params.prefill_chunk, prompt.size()));
  std::vector<float> logits(cfg.vocab_size);
  for (size_t start = 0; start < prompt.size(); start += scratch.max_tokens) {
    const size_t len = std::min<size_t>(scratch.max_tokens, prompt.size() - start);
    model.forward(cache, scratch, prompt.subspan(start, len), logits.data(), false);
  }
  std::vector<int> out;
  for (int i = 0; i < params.max_new_tokens; ++i) {
    const int next = argmax(logits.data(), cfg.vocab_size);
    out.push_back(next);
    if (on_token) on_token(next);
    if (std::find(params.stop_ids.begin(), params.stop_ids.end(), next) != params.stop_ids.end()) break;
    if (i + 1 < params.max_new_tokens)
      model.forward(cache, scratch, std::span<const int>(&next, 1), logits.data(), false);
  }
  return out;
}

}  // namespace qlm
