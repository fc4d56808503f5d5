// Fuzz target: one JSONL line of `qlm rollout --prompts`, `qlm score --input`, or of a rollout
// output read back by --resume, then (for prompts) the prompt built as build_prompt does
// without the model: messages through the Qwen2.5 chat template, text through its tokenizer.
// Byte 0 picks the reader and the flags; the rest is the line.
#include <memory>

#include "chat/chat_template.h"
#include "fuzz_util.h"
#include "request_lines.h"
#include "tokenizer/tokenizer.h"

namespace {
std::unique_ptr<qlm::Tokenizer> tokenizer;
std::unique_ptr<qlm::ChatTemplate> chat_template;
nlohmann::ordered_json special_tokens;

void build_prompt(const qlm::PromptSpec& spec) {
  if (!spec.ids.empty()) return;
  if (spec.messages || spec.chat) {
    const nlohmann::ordered_json messages = qlm::chat_messages(spec);
    tokenizer->encode(
        chat_template->render(messages, spec.add_generation_prompt, nullptr, special_tokens), true);
    return;
  }
  FUZZ_ASSERT(spec.text.has_value());
  tokenizer->encode(*spec.text, true);
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string dir = qlm::fuzz::shared_data("tokenizers/qwen2.5");
  try {
    tokenizer = qlm::Tokenizer::load(dir);
    chat_template = std::make_unique<qlm::ChatTemplate>(qlm::load_chat_template(dir).value());
    special_tokens = qlm::load_special_token_variables(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_request_line needs ../shared/data (or QLM_SHARED_DATA): %s\n",
                 e.what());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const bool chat = data[0] & 0x10;
  const std::string line(reinterpret_cast<const char*>(data + 1), size - 1);
  if (qlm::cli::is_blank_line(line)) return 0;  // the commands skip those before parsing
  qlm::fuzz::expect_clean([&] {
    if (mode == 0) {
      qlm::cli::RolloutLine r =
          qlm::cli::parse_rollout_line(line, "p.jsonl:1", 1, chat, "Be brief.");
      FUZZ_ASSERT(r.record.is_object());  // an empty id ("") is a valid, unique id
      build_prompt(r.spec);
    } else if (mode == 1) {
      qlm::cli::ScoreLine s = qlm::cli::parse_score_line(line, "s.jsonl:1", chat);
      FUZZ_ASSERT(s.completion_text.has_value() != !s.completion_ids.empty() ||
                  s.completion_ids.empty());
      build_prompt(s.spec);
      if (s.completion_text) tokenizer->encode(*s.completion_text, true);
    } else {
      qlm::cli::parse_done_line(line);
    }
  });
  return 0;
}
