// ChatTemplate: glue between the JSON the caller holds and the interpreter (parse, variables,
// render), and discovery of a model folder's template.
#include "chat/chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "chat/evaluator.h"
#include "chat/parser.h"

namespace qlm {
namespace {

template <class Json>
std::string render_impl(const chat::Template& tmpl, const Json& messages,
                        bool add_generation_prompt, const Json& tools, const Json& extra) {
  if (!messages.is_array()) fail("chat template: messages must be a JSON array");
  if (!extra.is_null() && !extra.is_object())
    fail("chat template: extra variables must be a JSON object");
  chat::Dict vars;
  vars.set("documents", chat::Value::none());  // Hugging Face always passes documents=None
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it)
      vars.set(it.key(), chat::from_json(it.value()));
  vars.set("messages", chat::from_json(messages));
  vars.set("tools", chat::from_json(tools));
  vars.set("add_generation_prompt", chat::Value::from_bool(add_generation_prompt));
  try {
    return chat::render_template(tmpl, vars);
  } catch (const std::bad_alloc&) {
    fail("chat template: out of memory while rendering");
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open ", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::ordered_json parse_json_file(const std::filesystem::path& path) {
  try {
    return nlohmann::ordered_json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), ": invalid JSON: ", e.what());
  }
}

// A special token as HF stores it: "<s>" or {"content": "<s>", "lstrip": false, ...}.
std::optional<std::string> token_text(const nlohmann::ordered_json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string())
    return j["content"].get<std::string>();
  return std::nullopt;
}

void merge_special_tokens(const nlohmann::ordered_json& src, nlohmann::ordered_json& out) {
  if (!src.is_object()) return;
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                          "cls_token", "mask_token"}) {
    if (!src.contains(key)) continue;
    if (std::optional<std::string> text = token_text(src[key])) out[key] = *text;
  }
  if (src.contains("additional_special_tokens") && src["additional_special_tokens"].is_array()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& t : src["additional_special_tokens"])
      if (std::optional<std::string> text = token_text(t)) list.push_back(*text);
    out["additional_special_tokens"] = std::move(list);
  }
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source)
    : source_(std::move(source)),
      template_(std::make_shared<const chat::Template>(chat::parse_template(source_))) {}

std::string ChatTemplate::render(const nlohmann::json& messages, bool add_generation_prompt,
                                 const nlohmann::json& tools, const nlohmann::json& extra) const {
  return render_impl(*template_, messages, add_generation_prompt, tools, extra);
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                 const nlohmann::ordered_json& tools,
                                 const nlohmann::ordered_json& extra) const {
  return render_impl(*template_, messages, add_generation_prompt, tools, extra);
}

nlohmann::ordered_json load_special_token_variables(const std::string& model_dir) {
  namespace fs = std::filesystem;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    fs::path path = fs::path(model_dir) / name;
    if (fs::exists(path)) merge_special_tokens(parse_json_file(path), out);
  }
  return out;
}

std::optional<std::string> load_chat_template(const std::string& model_dir) {
  namespace fs = std::filesystem;
  fs::path jinja = fs::path(model_dir) / "chat_template.jinja";
  if (fs::exists(jinja)) return read_file(jinja);
  fs::path config = fs::path(model_dir) / "tokenizer_config.json";
  if (fs::exists(config)) {
    nlohmann::ordered_json j = parse_json_file(config);
    if (j.contains("chat_template") && !j["chat_template"].is_null()) {
      const auto& t = j["chat_template"];
      if (t.is_string()) return t.get<std::string>();
      if (t.is_array()) {
        for (const auto& entry : t)
          if (entry.is_object() && entry.value("name", "") == "default" &&
              entry.contains("template") && entry["template"].is_string())
            return entry["template"].get<std::string>();
        fail(config.string(), ": chat_template is a list without a \"default\" entry");
      }
      fail(config.string(), ": chat_template must be a string or a list of {name, template}");
    }
  }
  return std::nullopt;
}

}  // namespace qlm
