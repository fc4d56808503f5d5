// The continuous-batching engine behind `qlm rollout` and `qlm serve`: requests (each with its
// own sampling, token budget, stop ids, log-prob options and N samples) are submitted from any
// thread; one scheduler thread owns the model and, at every step, prefills waiting prompts in
// chunks (once per prompt, then forked N times) and decodes one token for every active sequence
// in a single forward over the whole batch.
// Batch invariance: a sequence's tokens and log-probs depend only on its request (row-independent
// kernels; sampler seeds derive from the seed, the request id and the sample index).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/timer.h"
#include "model/transformer.h"
#include "runtime/prefix_cache.h"
#include "runtime/request_queue.h"
#include "sampler/sampler.h"

namespace qlm {

enum class LogprobMode { Raw, Processed };

struct SequenceParams {
  int max_new_tokens = 256;
  SamplingParams sampling;    // .seed is the request's seed; each sample derives its own
  std::vector<int> stop_ids;  // generation ends after one of these (kept in the ids)
  LogprobMode logprobs = LogprobMode::Processed;
  int top_logprobs = 0;
};

struct Completion {
  size_t request = 0;  // the request's tag
  int sample = 0;
  std::vector<int> ids;
  std::vector<float> logprobs;                          // per generated token, in the chosen mode
  std::vector<std::vector<std::pair<int, float>>> top;  // per token, when top_logprobs > 0
  std::string finish_reason;       // "stop", "length" or "cancelled" (empty while running)
  std::string stop_string;         // the stop string that ended it (set by RolloutEngine), or ""
  int cached_prompt_tokens = 0;    // prompt positions copied from the prefix cache, not computed
  double seconds = 0;              // from the prompt's admission to the end
  double first_token_seconds = 0;  // from the submission to the first token
};

struct EngineRequest {
  std::string id;  // seeds the samplers: the same id gives the same samples anywhere
  size_t tag = 0;  // copied to Completion::request
  std::vector<int> prompt_ids;
  std::vector<int> samples;  // which of the N samples to make (sample indices, non-empty)
  SequenceParams params;
  // Both run on the engine thread and must be quick. on_token sees the completion after each
  // new token; returning false ends that sample now with finish_reason "stop" (a stop string).
  std::function<bool(const Completion&)> on_token;
  std::function<void(const Completion&)> on_complete;  // exactly once per sample
  Timer submitted;  // reset by submit(): time to first token counts from here
};

struct EngineOptions {
  int max_batch = 32;             // sequences decoding at once
  int prefill_chunk = 128;        // prompt tokens prefilled per step (over all admissions)
  size_t max_waiting = SIZE_MAX;  // requests waiting for a batch slot before submit refuses
  // KV cache memory the admitted sequences may come to need, at worst (every sample reaching
  // max_new_tokens). A request waits while admitting it would pass this; one alone always runs.
  // 0: 80% of the memory available when the engine starts (MemAvailable).
  double kv_budget_bytes = 0;
  // Cross-request prefix cache (prefix_cache.h): KV of finished prompts kept for later prompts
  // that start the same way, at most this much (0: off). It gives way to admissions: entries
  // are dropped before the KV budget would hold a request back.
  double prefix_cache_bytes = double(size_t{1} << 30);
};

// Counters readable from any thread (for /metrics and the rollout summary).
struct EngineCounters {
  std::atomic<int64_t> prefills{0}, prompt_tokens{0}, generated_tokens{0}, steps{0};
  std::atomic<int64_t> cached_prompt_tokens{0};  // of prompt_tokens: copied from the prefix cache
  std::atomic<int64_t> prefix_cache_bytes{0};    // K/V the prefix cache holds (resident estimate)
  std::atomic<int> active{0}, admitting{0}, max_batch_seen{0};  // active: sequences decoding
  std::atomic<int64_t> kv_budget_waits{0};  // admissions the KV budget held back (not max_batch)
};

class BatchEngine {
 public:
  BatchEngine(const Transformer& model, EngineOptions options);
  ~BatchEngine();

  // Any thread. Checks the request (throws Error naming the field) and queues it; returns its
  // ticket, or 0 when max_waiting requests already wait or the engine is stopping.
  uint64_t submit(EngineRequest request);
  // Any thread: ends the request's samples at the next step (finish_reason "cancelled").
  void cancel(uint64_t ticket);
  void cancel_all();  // any thread: every request, waiting or running (shutdown deadline)
  // Any thread: runs `task` on the engine thread between two steps, or, when exclusive, once
  // every admitted sequence has finished (new requests wait meanwhile).
  void post_task(EngineTask task);
  size_t waiting() const { return queue_.waiting(); }
  double kv_budget_bytes() const { return kv_budget_; }
  const EngineCounters& counters() const { return counters_; }

  // The engine thread. step() runs one scheduling step; false when there was nothing to do.
  bool step();
  // Steps until nothing waits or runs (rollout); after_step, when set, runs after each step.
  void run_until_idle(const std::function<void()>& after_step = {});
  void serve();           // steps, sleeping while idle, until stop() (the server's scheduler)
  void stop();            // any thread: serve() returns once everything admitted has finished

 private:
  struct Sequence;
  struct Admission;
  bool admit_waiting();
  void apply_cancellations();
  bool step_sequence(Sequence& q, const float* logits);
  bool record_choice(Sequence& q, TokenChoice c);
  void fork_samples(Admission& a, const float* logits);
  // Before an admission's first chunk: copies the longest cached prefix of its prompt; false
  // when it should wait for an earlier admission still prefilling a long shared prefix.
  bool start_from_prefix_cache(Admission& a);
  void finish(Sequence& q, const char* reason);
  void publish_counts();  // counters_.active/admitting from the engine-thread state
  // Cache capacities: a sample's (prompt + max_new_tokens + 1), and the prompt's own cache
  // while it is prefilled (a single sample's is already the sample's).
  int sample_capacity(const EngineRequest& r) const;
  int prompt_capacity(const EngineRequest& r) const;
  // Worst-case KV bytes of a request: its prompt's cache, plus its samples' when they fork.
  size_t kv_need(const EngineRequest& r) const;
  size_t kv_reserved() const;  // the same, summed over the admitted sequences and prompts

  const Transformer& model_;
  EngineOptions options_;
  RequestQueue<EngineRequest> queue_;
  std::atomic<uint64_t> next_ticket_{1};
  EngineCounters counters_;
  // Engine-thread state below.
  int max_rows_;
  ForwardScratch scratch_;
  std::vector<float> logits_, row_logits_;
  std::vector<TokenChoice> choices_;  // one per decoding sequence, reused across steps
  std::vector<std::unique_ptr<Sequence>> active_;
  std::vector<std::unique_ptr<Admission>> admitting_;
  int admitting_samples_ = 0;
  double kv_budget_ = 0;
  PrefixCache prefix_cache_;
  uint64_t weights_version_;  // the model's when prefix_cache_ was filled
};

// The seed of one sample's sampler: a function of (seed, request id, sample index) only.
uint64_t sample_seed(uint64_t seed, const std::string& request_id, int sample);

}  // namespace qlm
