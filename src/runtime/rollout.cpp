// A rollout is a fixed list of requests with shared parameters, run on the BatchEngine.
#include "runtime/rollout.h"

#include <map>
#include <memory>

#include "base/error.h"
#include "base/timer.h"
#include "runtime/stop_strings.h"

namespace qlm {

RolloutEngine::RolloutEngine(const Transformer& model, RolloutParams params)
    : model_(model), params_(std::move(params)) {
  validate(params_.sampling);
  if (params_.samples_per_prompt < 1) fail("--samples-per-prompt: must be at least 1");
  if (params_.max_batch < 1) fail("--max-batch: must be at least 1");
  if (params_.max_new_tokens < 1) fail("--max-tokens: must be at least 1");
  for (const std::string& s : params_.stop_strings)
    if (s.empty()) fail("--stop: a stop string cannot be empty");
  if (!params_.stop_strings.empty() && params_.tokenizer == nullptr)
    fail("--stop: stop strings need the model's tokenizer (the folder has none)");
}

namespace {
// The stop-string watches of one request's samples (engine thread only).
struct StopWatches {
  const RolloutParams& params;
  std::map<int, StopStringWatch> by_sample;

  bool keep_going(const Completion& c) {
    auto it = by_sample.try_emplace(c.sample, *params.tokenizer, params.stop_strings, params.stop_ids).first;
    it->second.push(c.ids.back());  // the text itself is not needed here
    return !it->second.stopped();
  }
  std::string finish(int sample) {
    std::string matched;
    if (auto it = by_sample.find(sample); it != by_sample.end()) {
      matched = it->second.matched();
      by_sample.erase(it);
    }
    return matched;
  }
};
}  // namespace

RolloutStats RolloutEngine::run(const std::vector<RolloutRequest>& requests,
                                const std::function<void(const Completion&)>& on_complete,
                                const std::function<void(const EngineCounters&)>& on_step) {
  Timer total;
  BatchEngine engine(model_, EngineOptions{.max_batch = params_.max_batch,
                                           .prefill_chunk = params_.prefill_chunk,
                                           .kv_budget_bytes = params_.kv_budget_bytes,
                                           .prefix_cache_bytes = params_.prefix_cache_bytes});
  const SequenceParams seq{.max_new_tokens = params_.max_new_tokens,
                           .sampling = params_.sampling,
                           .stop_ids = params_.stop_ids,
                           .logprobs = params_.logprobs,
                           .top_logprobs = params_.top_logprobs};
  // Everything is checked before anything runs, so a bad line fails the run at once.
  for (size_t i = 0; i < requests.size(); ++i) {
    EngineRequest r{.id = requests[i].id,
                    .tag = i,
                    .prompt_ids = requests[i].prompt_ids,
                    .samples = requests[i].sample_indices,
                    .params = seq,
                    .on_complete = on_complete};
    if (r.samples.empty())
      for (int k = 0; k < params_.samples_per_prompt; ++k) r.samples.push_back(k);
    if (!params_.stop_strings.empty()) {
      auto watches = std::make_shared<StopWatches>(StopWatches{.params = params_});
      r.on_token = [watches](const Completion& c) { return watches->keep_going(c); };
      r.on_complete = [watches, &on_complete](const Completion& c) {
        Completion named = c;
        named.stop_string = watches->finish(c.sample);
        on_complete(named);
      };
    }
    QLM_CHECK(engine.submit(std::move(r)) != 0);  // the queue is unbounded
  }
  engine.run_until_idle([&] {
    if (on_step) on_step(engine.counters());
  });
  const EngineCounters& c = engine.counters();
  return RolloutStats{.prefills = static_cast<int>(c.prefills.load()),
                      .prompt_tokens = c.prompt_tokens.load(),
                      .generated_tokens = c.generated_tokens.load(),
                      .cached_prompt_tokens = c.cached_prompt_tokens.load(),
                      .max_batch_seen = c.max_batch_seen.load(),
                      .kv_budget_waits = c.kv_budget_waits.load(),
                      .kv_budget_bytes = engine.kv_budget_bytes(),
                      .seconds = total.seconds()};
}

}  // namespace qlm
