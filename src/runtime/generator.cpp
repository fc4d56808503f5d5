// The generation loop.
#include "runtime/generator.h"

#include <algorithm>

#include "base/error.h"
#include "base/timer.h"
#include "runtime/greedy.h"

namespace qlm {

std::vector<int> generate_continue(const Transformer& model, KVCache& cache, ForwardScratch& scratch,
                                   std::span<const int> new_tokens, const GenerateParams& params,
                                   const ChooseToken& choose, const OnToken& on_token, GenerateStats* stats) {
  const ModelConfig& cfg = model.config();
  if (new_tokens.empty()) fail("the prompt is empty");
  if (cache.size() + static_cast<int>(new_tokens.size()) + 1 > cache.capacity())
    fail("the prompt (", cache.size() + new_tokens.size(), " tokens) does not fit the context of ", cache.capacity(),
         " tokens");
  std::vector<float> logits(cfg.vocab_size);
  GenerateStats st;
  st.prompt_tokens = static_cast<int>(new_tokens.size());
  Timer timer;
  for (size_t start = 0; start < new_tokens.size(); start += scratch.max_tokens) {
    const size_t len = std::min<size_t>(scratch.max_tokens, new_tokens.size() - start);
    model.forward(cache, scratch, new_tokens.subspan(start, len), logits.data(), false);
  }
  st.prefill_seconds = timer.seconds();
  timer.reset();
  std::vector<int> out;
  st.finish_reason = "length";
  const int budget = std::min(params.max_new_tokens, cache.capacity() - cache.size());
  for (int i = 0; i < budget; ++i) {
    const int next = choose ? choose(logits.data()) : argmax(logits.data(), cfg.vocab_size);
    out.push_back(next);
    const bool is_stop = std::find(params.stop_ids.begin(), params.stop_ids.end(), next) != params.stop_ids.end();
    if (on_token && !on_token(next)) {
      st.finish_reason = "stop";
      break;
    }
    if (is_stop) {
      st.finish_reason = "stop";
      break;
    }
    // The last token is not run through the model: its logits would go unused. A caller that
    // keeps the cache (chat) finds it missing by comparing token prefixes, and feeds it then.
    if (i + 1 < budget) model.forward(cache, scratch, std::span<const int>(&next, 1), logits.data(), false);
  }
  st.decode_seconds = timer.seconds();
  st.generated_tokens = static_cast<int>(out.size());
  if (stats) *stats = st;
  return out;
}

std::vector<int> generate(const Transformer& model, std::span<const int> prompt, const GenerateParams& params,
                          const ChooseToken& choose, const OnToken& on_token, GenerateStats* stats) {
  const int capacity = std::min<int>(model.config().max_position_embeddings,
                                     static_cast<int>(prompt.size()) + params.max_new_tokens + 1);
  KVCache cache(model.config(), capacity, model.kv_dtype());
  ForwardScratch scratch = model.make_scratch(std::min<int>(params.prefill_chunk, std::max<size_t>(prompt.size(), 1)));
  return generate_continue(model, cache, scratch, prompt, params, choose, on_token, stats);
}

}  // namespace qlm
