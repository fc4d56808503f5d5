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

std::optional<std::string> load_chat_template(const std::string& model_dir) {
  namespace fs = std::filesystem;
  fs::path jinja = fs::path(model_dir) / "chat_template.jinja";
  if (fs::exists(jinja)) return read_file(jinja);
  fs::path config = fs::path(model_dir) / "tokenizer_config.json";
  if (fs::exists(config)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(config));
    } catch (const nlohmann::json::exception& e) {
      fail(config.string(), ": invalid JSON: ", e.what());
    }
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
