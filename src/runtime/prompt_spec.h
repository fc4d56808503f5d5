// What a user gives as a prompt, before any model is involved: token ids, plain text, or a
// chat conversation. Kept apart from prompt.h so input parsers need no model headers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace qlm {

struct PromptSpec {
  std::vector<int> ids;                      // given directly: used as they are
  std::optional<std::string> text;           // a plain prompt, or the user turn when chat
  std::optional<nlohmann::ordered_json> messages;  // a whole conversation
  bool chat = false;                         // render text/messages with the chat template
  std::string system;                        // optional system prompt for a chat
  bool add_generation_prompt = true;
};

}  // namespace qlm
