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

// The conversation a chat prompt renders: the given messages, or the optional system prompt
// followed by the text as the user turn.
inline nlohmann::ordered_json chat_messages(const PromptSpec& spec) {
  if (spec.messages) return *spec.messages;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (!spec.system.empty()) messages.push_back({{"role", "system"}, {"content", spec.system}});
  messages.push_back({{"role", "user"}, {"content", spec.text.value_or("")}});
  return messages;
}

}  // namespace qlm
