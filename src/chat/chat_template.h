// Public chat-template API: parse a model's Jinja chat template once, render conversations the
// way Hugging Face apply_chat_template does (python jinja2, trim_blocks + lstrip_blocks).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace qlm {

namespace chat {
struct Template;
}

class ChatTemplate {
 public:
  // Parses once; throws qlm::Error("chat template: unsupported construct '...' at line L") for
  // anything outside the supported subset, so a template never renders wrongly in silence.
  explicit ChatTemplate(std::string source);

  // messages = [{"role": .., "content": .., ...}], tools = array or null, extra = other
  // variables (bos_token, eos_token, enable_thinking, ...). Throws qlm::Error on render errors,
  // including the template's own raise_exception(msg).
  // nlohmann::json sorts object keys; pass ordered_json where tojson must keep the caller's
  // key order (Python dicts keep insertion order, so Hugging Face's output does). All three
  // arguments take the same JSON type. `documents` is None unless extra sets it, as in HF.
  // render() is const and keeps no state between calls, so threads may share one template.
  std::string render(const nlohmann::json& messages, bool add_generation_prompt,
                     const nlohmann::json& tools = nullptr,
                     const nlohmann::json& extra = nlohmann::json::object()) const;
  std::string render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                     const nlohmann::ordered_json& tools = nullptr,
                     const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::shared_ptr<const chat::Template> template_;
};

// The model folder's template: chat_template.jinja if present (transformers lets that file
// override the config, see its test_chat_template_file_priority), else tokenizer_config.json
// "chat_template" (a string, or a list of {name, template} whose "default" entry is used);
// nullopt if neither. Throws qlm::Error if the file holding the template is malformed.
std::optional<std::string> load_chat_template(const std::string& model_dir);

// The special-token variables apply_chat_template passes (the tokenizer's special_tokens_map):
// bos_token, eos_token, unk_token, pad_token, ... and additional_special_tokens, read from
// tokenizer_config.json then special_tokens_map.json (which wins, as in transformers). Token
// entries may be strings or {"content": ...}; absent files give an empty object. Use the result
// as render()'s `extra` (add enable_thinking etc. to it as needed).
nlohmann::ordered_json load_special_token_variables(const std::string& model_dir);

}  // namespace qlm
