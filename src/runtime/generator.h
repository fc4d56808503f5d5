// One sequence's generation loop: prefill the prompt (in chunks), then decode token by token
// until a stop id, the token budget, or the caller says stop. The choice of each token is a
// callback (greedy argmax by default; the sampler plugs in here).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/transformer.h"

namespace qlm {

struct GenerateParams {
  int max_new_tokens = 256;
  std::vector<int> stop_ids;  // generation ends after one of these (it is kept in the output)
  int prefill_chunk = 256;
};

struct GenerateStats {
  int prompt_tokens = 0, generated_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;  // time to first token = prefill_seconds
  std::string finish_reason;                       // "stop" or "length"
};

// choose(logits[vocab]) -> next id (may modify logits). on_token(id) -> false to stop early
// (e.g. a stop string was seen); that ends with finish_reason "stop".
using ChooseToken = std::function<int(float* logits)>;
using OnToken = std::function<bool(int id)>;

std::vector<int> generate(const Transformer& model, std::span<const int> prompt, const GenerateParams& params,
                          const ChooseToken& choose, const OnToken& on_token, GenerateStats* stats);

// Generation with a KV cache the caller keeps (chat: the history is not prefilled again).
// Appends to cache; the prompt here is only the new tokens since the cache's last position.
std::vector<int> generate_continue(const Transformer& model, KVCache& cache, ForwardScratch& scratch,
                                   std::span<const int> new_tokens, const GenerateParams& params,
                                   const ChooseToken& choose, const OnToken& on_token, GenerateStats* stats);

}  // namespace qlm
