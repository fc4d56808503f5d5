// One HTTP generation call on the engine: its prompts are submitted as engine requests (N samples
// each); on the engine thread, every new token is decoded to text (incomplete UTF-8 held back,
// stop strings cut) and posted as a ChoiceDelta to the call's mailbox, which the HTTP thread
// drains, for streaming or to build the whole response.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/batch_engine.h"
#include "runtime/loaded_model.h"
#include "serve/openai_request.h"

namespace qlm::serve {

// What ended a choice with finish_reason "stop", as vLLM's `stop_reason` reports it: the stop
// string met, or the request's own stop_token_ids entry; neither for the model's end-of-text.
struct StopReason {
  std::string text;  // the stop string (when non-empty)
  int token = -1;    // a stop_token_ids entry (when >= 0)
};

struct ChoiceDelta {
  int index = 0;  // prompt * n + sample
  std::string text;
  std::vector<int> ids;
  std::vector<float> logprobs;
  std::vector<std::vector<std::pair<int, float>>> top;
  std::string finish_reason;        // set on a choice's last delta: "stop", "length" or "abort"
  StopReason stop_reason;           // set on the last delta when finish_reason is "stop"
  double first_token_seconds = -1;  // set on the delta of the first token
  int cached_prompt_tokens = -1;     // the same: the prompt's tokens found in the prefix cache
};

// A choice put together from its deltas (non-streaming responses).
struct ChoiceResult {
  std::string text;
  std::vector<int> ids;
  std::vector<float> logprobs;
  std::vector<std::vector<std::pair<int, float>>> top;
  std::string finish_reason;
  StopReason stop_reason;
  void add(ChoiceDelta&& d);  // takes the delta's pieces
};

class GenerationJob {
 public:
  GenerationJob(BatchEngine& engine, const LoadedModel& m, const GenerationCall& call);
  ~GenerationJob();  // cancels whatever still runs (a client that went away)
  GenerationJob(const GenerationJob&) = delete;
  GenerationJob& operator=(const GenerationJob&) = delete;

  // Submits every prompt; throws ApiError 429 when the queue is full (then nothing stays queued).
  void submit();
  // Deltas posted since the last call, waiting up to `timeout` for the first one.
  std::vector<ChoiceDelta> take(std::chrono::milliseconds timeout);
  void cancel();
  int choices() const { return choices_; }
  bool finished() const { return finished_ == choices_; }  // after take() returned every last delta

 private:
  struct Shared;
  BatchEngine& engine_;
  const GenerationCall& call_;
  std::shared_ptr<Shared> shared_;  // also held by the engine-thread callbacks
  std::vector<uint64_t> tickets_;
  int choices_ = 0;
  int finished_ = 0;
};

}  // namespace qlm::serve
