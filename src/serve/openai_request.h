// OpenAI request bodies -> what the engine runs: /v1/completions and /v1/chat/completions
// (plus the qlm extensions), and /v1/score. Every wrong type or value is an ApiError that names
// the field; unknown fields are ignored, as OpenAI-compatible servers do.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/batch_engine.h"
#include "runtime/loaded_model.h"
#include "serve/api_error.h"

namespace qlm::serve {

using ojson = nlohmann::ordered_json;

struct RequestLimits {
  int max_n = 16;                // cap on n
  int default_max_tokens = 256;  // when max_tokens is absent (clamped to the context's room)
  int max_top_logprobs = 20;
  int max_stop_strings = 16;
  int max_prompts = 64;  // prompts in one /v1/completions batch
};

struct GenerationCall {
  bool chat = false;
  std::string model;                      // as the client named it (echoed back)
  std::vector<std::vector<int>> prompts;  // token ids; one engine request each
  int n = 1;
  SequenceParams params;  // sampling (with the request seed), max_new_tokens, stop ids, log-probs
  std::vector<std::string> stop;  // stop strings (not part of the returned text)
  std::vector<int> stop_token_ids;  // the request's own (in params.stop_ids too), for stop_reason
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage
  bool logprobs = false;          // return per-token log-probs
  bool return_token_ids = false;  // qlm/vLLM extension: prompt and completion ids
};

// body: the parsed JSON (must be an object). chat selects the /v1/chat/completions schema.
GenerationCall parse_generation(const ojson& body, bool chat, const LoadedModel& m,
                                const RequestLimits& limits);

struct ScoreCall {
  std::string model;
  std::vector<int> prompt;
  std::vector<std::vector<int>> completions;
};

// /v1/score: {"prompt": text|ids, "completions": [text|ids, ...]} (or "completion": one).
ScoreCall parse_score(const ojson& body, const LoadedModel& m, int max_completions);

// Parses a request body, or throws ApiError 400 "invalid JSON ..." / "must be a JSON object".
ojson parse_body(const std::string& text);

}  // namespace qlm::serve
