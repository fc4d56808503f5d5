// JSONL request lines -> prompt specs, with errors that name the file, line and field.
#include "request_lines.h"

#include "base/error.h"

namespace qlm::cli {

namespace {
using ojson = nlohmann::ordered_json;

std::string id_string(const ojson& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::vector<int> id_list(const ojson& v, const std::string& where, const char* key) {
  if (!v.is_array()) fail(where, ": '", key, "' must be a list of token ids");
  std::vector<int> ids;
  for (const auto& x : v) {
    if (!x.is_number_integer()) fail(where, ": '", key, "' must be a list of token ids");
    ids.push_back(x.get<int>());
  }
  return ids;
}

ojson parse_object(const std::string& text, const std::string& where) {
  ojson j = ojson::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(where, ": not a JSON object");
  return j;
}
}  // namespace

bool is_blank_line(const std::string& text) {
  return text.find_first_not_of(" \t\r") == std::string::npos;
}

RolloutLine parse_rollout_line(const std::string& text, const std::string& where, int line_number,
                               bool chat_text, const std::string& system) {
  ojson j = parse_object(text, where);
  RolloutLine line;
  line.id = j.contains("id") ? id_string(j["id"]) : std::to_string(line_number);
  PromptSpec& spec = line.spec;
  if (j.contains("prompt_ids")) {
    if (!j["prompt_ids"].is_array()) fail(where, ": 'prompt_ids' must be a list of token ids");
    spec.ids = id_list(j["prompt_ids"], where, "prompt_ids");
    if (spec.ids.empty()) fail(where, ": 'prompt_ids' is empty");
  } else if (j.contains("messages")) {
    if (!j["messages"].is_array()) fail(where, ": 'messages' must be a list of {role, content}");
    spec.messages = j["messages"];
  } else if (j.contains("prompt")) {
    if (!j["prompt"].is_string()) fail(where, ": 'prompt' must be a string");
    spec.text = j["prompt"].get<std::string>();
    spec.chat = chat_text;
    spec.system = system;
  } else {
    fail(where, ": needs 'prompt', 'messages' or 'prompt_ids'");
  }
  line.record = std::move(j);
  return line;
}

ScoreLine parse_score_line(const std::string& text, const std::string& where, bool chat_text) {
  ojson j = parse_object(text, where);
  ScoreLine line;
  PromptSpec& spec = line.spec;
  if (j.contains("prompt_ids"))
    spec.ids = id_list(j["prompt_ids"], where, "prompt_ids");
  else if (j.contains("messages"))
    spec.messages = j["messages"];
  else if (j.contains("prompt") && j["prompt"].is_string()) {
    spec.text = j["prompt"].get<std::string>();
    spec.chat = chat_text;
  } else
    fail(where, ": needs 'prompt', 'messages' or 'prompt_ids'");
  if (j.contains("completion_ids"))
    line.completion_ids = id_list(j["completion_ids"], where, "completion_ids");
  else if (j.contains("completion") && j["completion"].is_string())
    line.completion_text = j["completion"].get<std::string>();
  else
    fail(where, ": needs 'completion' or 'completion_ids'");
  line.record = std::move(j);
  return line;
}

std::optional<std::pair<std::string, int>> parse_done_line(const std::string& text) {
  ojson j = ojson::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j.contains("sample"))
    return std::nullopt;
  if (!j["sample"].is_number_integer()) return std::nullopt;
  return std::pair{id_string(j["id"]), j["sample"].get<int>()};
}

}  // namespace qlm::cli
