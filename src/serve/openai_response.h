// OpenAI response bodies: whole responses, Server-Sent-Event chunks, usage, and the two
// log-prob shapes (completions: tokens/token_logprobs/top_logprobs/text_offset; chat: content[]).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "serve/generation.h"
#include "tokenizer/tokenizer.h"

namespace qlm::serve {

struct ResponseHead {
  std::string id;  // "cmpl-..." / "chatcmpl-..."
  int64_t created = 0;
  std::string model;  // the name the client used, else the served name
};

struct Usage {
  int64_t prompt_tokens = 0, completion_tokens = 0;
  int64_t cached_tokens = 0;  // of prompt_tokens: copied from the prefix cache
  // Counts a choice's delta: its tokens, and for a prompt's first sample its cached tokens.
  void add(const ChoiceDelta& d, int n);
  ojson json() const;
};

// The whole response of a generation call.
ojson generation_response(const GenerationCall& call, const ResponseHead& head,
                          const std::vector<ChoiceResult>& choices, const Tokenizer* tok,
                          const Usage& usage);

// One stream chunk for one choice's deltas (merged), or, when `d` is null, the choice's opening
// chunk (chat: the assistant role; with return_token_ids: the prompt ids). text_offset: the
// choice's text length before this chunk (completions log-probs).
ojson generation_chunk(const GenerationCall& call, const ResponseHead& head, int index,
                       const ChoiceResult* d, const Tokenizer* tok, size_t text_offset);

// The final usage chunk of a stream (stream_options.include_usage).
ojson usage_chunk(const GenerationCall& call, const ResponseHead& head, const Usage& usage);

}  // namespace qlm::serve
