// Fuzz target: a conversation (JSON: messages, or {messages, tools, extra...}) rendered by the
// real Qwen2.5, Qwen3 and Llama-3 chat templates through the public ChatTemplate API, as
// rollout/score/serve do with user-supplied messages. Byte 0 picks the template.
#include <memory>

#include "chat/chat_template.h"
#include "fuzz_util.h"

namespace {
std::vector<std::unique_ptr<qlm::ChatTemplate>> templates;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (const char* dir : {"tokenizers/qwen2.5", "tokenizers/qwen3", "tokenizers/llama3"}) {
    std::optional<std::string> src;
    try {
      src = qlm::load_chat_template(qlm::fuzz::shared_data(dir));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
    }
    if (!src) {
      std::fprintf(stderr, "fuzz_chat_messages needs ../shared/data (or QLM_SHARED_DATA): %s\n",
                   dir);
      std::exit(2);
    }
    templates.push_back(std::make_unique<qlm::ChatTemplate>(*src));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const qlm::ChatTemplate& tmpl = *templates[data[0] % templates.size()];
  const bool generation_prompt = data[0] & 0x80;
  const auto j =
      nlohmann::ordered_json::parse(data + 1, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;  // the callers refuse lines that are not JSON first
  qlm::fuzz::expect_clean([&] {
    if (j.is_object() && j.contains("messages")) {
      nlohmann::ordered_json extra = j;
      extra.erase("messages");
      extra.erase("tools");
      tmpl.render(j["messages"], generation_prompt, j.value("tools", nlohmann::ordered_json()),
                  extra);
    } else {
      tmpl.render(j, generation_prompt);
    }
  });
  return 0;
}
