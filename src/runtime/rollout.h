// The rollout of a fixed list of prompts for RL training loops: N samples per prompt, all with
// the same parameters, run to completion on the continuous-batching BatchEngine (each prompt
// prefilled once and forked N times; batch-invariant results).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/batch_engine.h"
#include "tokenizer/tokenizer.h"

namespace qlm {

struct RolloutRequest {
  std::string id;  // seeds the samplers: the same id gives the same samples anywhere
  std::vector<int> prompt_ids;
  std::vector<int> sample_indices;  // which of the N samples to make (empty = 0 .. N-1)
};

struct RolloutParams {
  int samples_per_prompt = 4;
  int max_new_tokens = 256;
  SamplingParams sampling;
  std::vector<int> stop_ids;
  // A sample ends on the token that completes one of these in its streamed text (the token is
  // kept, with its log-prob, as vLLM keeps it); Completion::stop_string names it. Needs tokenizer.
  std::vector<std::string> stop_strings;
  const Tokenizer* tokenizer = nullptr;
  LogprobMode logprobs = LogprobMode::Processed;
  int top_logprobs = 0;
  int max_batch = 32;       // sequences decoding at once
  int prefill_chunk = 128;  // prompt tokens prefilled between two decode steps
  double kv_budget_bytes = 0;  // EngineOptions::kv_budget_bytes (0: 80% of available memory)
  double prefix_cache_bytes = double(size_t{1} << 30);  // EngineOptions::prefix_cache_bytes
};

struct RolloutStats {
  int prefills = 0;  // prompts prefilled (once per prompt, whatever N is)
  int64_t prompt_tokens = 0, generated_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // of prompt_tokens: copied from the prefix cache
  int max_batch_seen = 0;
  int64_t kv_budget_waits = 0;  // steps the KV budget held an admission back
  double kv_budget_bytes = 0;   // the budget in force
  double seconds = 0;
};

class RolloutEngine {
 public:
  RolloutEngine(const Transformer& model, RolloutParams params);
  // Runs every request to completion; on_complete is called as each completion finishes and
  // on_step, when set, after every engine step (for progress: the counters are live).
  RolloutStats run(const std::vector<RolloutRequest>& requests,
                   const std::function<void(const Completion&)>& on_complete,
                   const std::function<void(const EngineCounters&)>& on_step = {});

 private:
  const Transformer& model_;
  RolloutParams params_;
};

}  // namespace qlm
