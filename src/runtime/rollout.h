// The batched rollout engine for RL training loops: N samples per prompt, each prompt
// prefilled once (in chunks, between decode steps) and forked N times, and continuous
// batching: sequences join and leave the running batch at every decode step, and each step
// runs the weights once for all sequences (one matmul of [batch][hidden]).
// Batch invariance: a sequence's tokens and log-probs do not depend on what else is in the
// batch or on the thread count (row-independent kernels, per-sequence samplers whose seeds
// depend only on the seed, the request's id and the sample index).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "sampler/sampler.h"

namespace qlm {

enum class LogprobMode { Raw, Processed };

struct RolloutRequest {
  std::string id;               // seeds the samplers: the same id gives the same samples anywhere
  std::vector<int> prompt_ids;
  std::vector<int> sample_indices;  // which of the N samples to make (empty = 0 .. N-1)
};

struct RolloutParams {
  int samples_per_prompt = 4;
  int max_new_tokens = 256;
  SamplingParams sampling;
  std::vector<int> stop_ids;
  LogprobMode logprobs = LogprobMode::Processed;
  int top_logprobs = 0;
  int max_batch = 32;       // sequences decoding at once
  int prefill_chunk = 128;  // prompt tokens prefilled between two decode steps
};

struct Completion {
  size_t request = 0;  // index into the requests given to run()
  int sample = 0;
  std::vector<int> ids;
  std::vector<float> logprobs;                         // per generated token, in the chosen mode
  std::vector<std::vector<std::pair<int, float>>> top;  // per token, when top_logprobs > 0
  std::string finish_reason;                            // "stop" or "length"
  double seconds = 0;                                   // from the prompt's admission to the end
};

struct RolloutStats {
  int prefills = 0;  // prompts prefilled (once per prompt, whatever N is)
  int64_t prompt_tokens = 0, generated_tokens = 0;
  int max_batch_seen = 0;
  double seconds = 0;
};

class RolloutEngine {
 public:
  RolloutEngine(const Transformer& model, RolloutParams params);
  // Runs every request to completion; on_complete is called as each completion finishes.
  RolloutStats run(const std::vector<RolloutRequest>& requests, const std::function<void(const Completion&)>& on_complete);

 private:
  const Transformer& model_;
  RolloutParams params_;
};

// The seed of one sample's sampler: a function of (seed, request id, sample index) only.
uint64_t sample_seed(uint64_t seed, const std::string& request_id, int sample);

}  // namespace qlm
