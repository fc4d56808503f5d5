// Prompt building.
#include "runtime/prompt.h"

#include "base/error.h"

namespace qlm {

std::string render_chat(const LoadedModel& m, const nlohmann::ordered_json& messages, bool add_generation_prompt) {
  if (!m.chat_template) fail(m.dir, ": the model has no chat template (use --no-chat for a plain prompt)");
  m.require_tokenizer("chat");
  // bos_token, eos_token, ... as Hugging Face passes them to the template.
  return m.chat_template->render(messages, add_generation_prompt, nullptr, load_special_token_variables(m.dir));
}

std::vector<int> build_prompt(const LoadedModel& m, const PromptSpec& spec) {
  if (!spec.ids.empty()) return spec.ids;
  if (spec.messages || spec.chat) {
    const nlohmann::ordered_json messages = chat_messages(spec);
    const std::string rendered = render_chat(m, messages, spec.add_generation_prompt);
    return m.require_tokenizer("chat").encode(rendered, /*allow_special=*/true);
  }
  if (!spec.text) fail("no prompt given");
  const Tokenizer& tok = m.require_tokenizer("a text prompt");
  std::vector<int> ids;
  if (tok.add_bos() && tok.bos_id()) ids.push_back(*tok.bos_id());
  std::vector<int> body = tok.encode(*spec.text, /*allow_special=*/true);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

}  // namespace qlm
