// Turning what a user gives (token ids, plain text, or chat messages through the model's
// chat template) into prompt token ids, the way Hugging Face does.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/loaded_model.h"
#include "runtime/prompt_spec.h"

namespace qlm {

// Ids for the spec: chat -> template render (encoded with special tokens, no extra BOS, as
// apply_chat_template); plain text -> the tokenizer's BOS (if it adds one) + encoding.
std::vector<int> build_prompt(const LoadedModel& m, const PromptSpec& spec);

// The chat template's rendering for messages (exposed for tests and --verbose).
std::string render_chat(const LoadedModel& m, const nlohmann::ordered_json& messages, bool add_generation_prompt);

}  // namespace qlm
