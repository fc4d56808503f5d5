// Parsing one line of the rollout / score JSONL inputs (and of a rollout output being resumed)
// into what the command needs, without a model: the code a fuzz target can reach directly.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/prompt_spec.h"

namespace qlm::cli {

// True for a line with nothing but spaces, tabs and CR: the commands skip those.
bool is_blank_line(const std::string& text);

// rollout --prompts: {id?, prompt | messages | prompt_ids, ...}. `where` ("file:line") starts
// every error; `line_number` is the id when the line has none. chat_text: render text prompts
// through the chat template (with `system`). Throws Error.
struct RolloutLine {
  nlohmann::ordered_json record;  // the whole input line: extra fields are carried to the output
  std::string id;
  PromptSpec spec;
};
RolloutLine parse_rollout_line(const std::string& text, const std::string& where, int line_number,
                               bool chat_text, const std::string& system);

// score --input: {prompt | prompt_ids | messages, completion | completion_ids, ...}.
struct ScoreLine {
  nlohmann::ordered_json record;
  PromptSpec spec;
  std::vector<int> completion_ids;             // given as ids, or
  std::optional<std::string> completion_text;  // as text, for the caller's tokenizer
};
ScoreLine parse_score_line(const std::string& text, const std::string& where, bool chat_text);

// A line of a rollout output (for --resume): (id, sample), or nullopt for a torn or foreign line.
std::optional<std::pair<std::string, int>> parse_done_line(const std::string& text);

}  // namespace qlm::cli
