// Fuzz target: a chat template's source, parsed and rendered over a fixed conversation with
// tools, tool calls and the usual special-token variables (tighter limits than the default,
// so each run stays fast; the limits themselves are what is under test).
#include <nlohmann/json.hpp>

#include "chat/evaluator.h"
#include "chat/parser.h"
#include "fuzz_util.h"

namespace {
qlm::chat::Dict variables() {
  const auto j = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "What is 2+2? <|im_end|> {{ not code }}"},
      {"role": "assistant", "content": "", "reasoning_content": "add",
       "tool_calls": [{"type": "function", "function": {"name": "add", "arguments": {"a": 2, "b": 2}}}]},
      {"role": "tool", "content": "4"},
      {"role": "assistant", "content": "4"},
      {"role": "user", "content": ["list", "content", 1.5, null, true]}],
    "tools": [{"type": "function", "function": {"name": "add", "description": "a + b",
      "parameters": {"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]}}}],
    "bos_token": "<s>", "eos_token": "<|im_end|>", "documents": null,
    "add_generation_prompt": true, "enable_thinking": false})");
  qlm::chat::Dict vars;
  for (auto it = j.begin(); it != j.end(); ++it)
    vars.set(it.key(), qlm::chat::from_json(it.value()));
  return vars;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const qlm::chat::Dict vars = variables();
  static const qlm::chat::RenderLimits limits{
      .max_output_bytes = 1 << 20, .max_loop_iterations = 20'000, .max_macro_depth = 64};
  const std::string source(reinterpret_cast<const char*>(data), size);
  qlm::fuzz::expect_clean([&] {
    const qlm::chat::Template tmpl = qlm::chat::parse_template(source);
    const std::string out = qlm::chat::render_template(tmpl, vars, limits);
    FUZZ_ASSERT(out.size() <= limits.max_output_bytes);
  });
  return 0;
}
