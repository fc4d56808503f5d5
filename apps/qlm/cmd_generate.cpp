// qlm generate: a continuation of a text prompt (chat template applied for instruct models) or
// of token ids, streamed as it is produced; a stats line on stderr; --json for one object.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/memory_stats.h"
#include "commands.h"
#include "runtime/generator.h"
#include "runtime/loaded_model.h"
#include "runtime/prompt.h"
#include "runtime/stop_strings.h"
#include "sampling_flags.h"
#include "text_input.h"

namespace qlm::cli {

namespace {

struct GenerateFlags {
  std::string model, prompt, prompt_file, ids, system, expect_quant;
  std::vector<std::string> stop;
  int max_tokens = 256;
  bool json = false, ignore_eos = false, chat = false, no_chat = false;
  bool prompt_given = false;  // -p "" (empty) is a valid prompt: BOS only
  SamplingParams sampling;
  int top_logprobs = 0;
};

void run_generate(const GenerateFlags& f) {
  LoadedModel m = load_model(f.model);
  check_expected_quantization(m.net->config(), f.expect_quant, "--expect-quantization");
  PromptSpec spec;
  if (!f.ids.empty()) {
    spec.ids = parse_id_list(f.ids, "--ids");
  } else {
    std::string text = f.prompt_file.empty() ? f.prompt : read_text_file(f.prompt_file, "--prompt-file");
    if (!f.prompt_given && f.prompt_file.empty())
      fail("give a prompt: -p/--prompt TEXT, --prompt-file FILE or --ids 1,2,3");
    spec.text = text;
    spec.chat = f.chat || (!f.no_chat && m.chat_template != nullptr);
    spec.system = f.system;
  }
  std::vector<int> prompt = build_prompt(m, spec);
  if (prompt.empty()) fail("-p/--prompt: the prompt is empty and the tokenizer adds no BOS");
  const int ctx = m.net->config().max_position_embeddings;
  if (static_cast<int>(prompt.size()) >= ctx)
    fail("the prompt has ", prompt.size(), " tokens, more than the context length ", ctx);
  GenerateParams params{.max_new_tokens = f.max_tokens};
  if (static_cast<int>(prompt.size()) + f.max_tokens > ctx) {
    params.max_new_tokens = ctx - static_cast<int>(prompt.size());
    std::fprintf(stderr, "qlm: warning: --max-tokens %d exceeds the context; clamped to %d\n", f.max_tokens,
                 params.max_new_tokens);
  }
  if (!f.ignore_eos) params.stop_ids = m.stop_ids;

  // Streaming text (the watch holds incomplete UTF-8 and possible stop strings back).
  const bool text_out = m.tokenizer != nullptr && f.ids.empty();
  std::optional<StopStringWatch> watch;
  if (text_out) watch.emplace(*m.tokenizer, f.stop, params.stop_ids);
  std::string text;
  auto emit = [&](const std::string& piece) {
    text += piece;
    if (!f.json) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
  };
  auto on_token = [&](int id) {
    if (!text_out) {
      if (!f.json) std::printf(text.empty() && id == -1 ? "" : "%d ", id), std::fflush(stdout);
      return true;
    }
    emit(watch->push(id));
    return !watch->stopped();
  };
  Sampler sampler(f.sampling, m.net->config().vocab_size, prompt);  // validates the flags
  nlohmann::ordered_json logprobs = nlohmann::ordered_json::array();
  auto choose = [&](float* logits) {
    TokenChoice c = sampler.sample(logits, f.top_logprobs);
    if (f.json) {
      nlohmann::ordered_json e = {{"id", c.id}, {"logprob", c.logprob_raw}, {"logprob_processed", c.logprob_processed}};
      if (f.top_logprobs > 0) {
        nlohmann::ordered_json top = nlohmann::ordered_json::array();
        for (auto [id, lp] : c.top) top.push_back({id, lp});
        e["top"] = top;
      }
      logprobs.push_back(e);
    }
    return c.id;
  };
  GenerateStats st;
  std::vector<int> out = generate(*m.net, prompt, params, choose, on_token, &st);
  if (watch) emit(watch->finish());
  if (f.json) {
    nlohmann::ordered_json j = {{"text", text}, {"prompt_ids", prompt}, {"ids", out},
                                {"finish_reason", st.finish_reason}, {"logprobs", logprobs},
                                {"stats", {{"prompt_tokens", st.prompt_tokens},
                                           {"prompt_tok_per_s", st.prompt_tokens / std::max(st.prefill_seconds, 1e-9)},
                                           {"generated_tokens", st.generated_tokens},
                                           {"gen_tok_per_s", st.generated_tokens / std::max(st.decode_seconds, 1e-9)},
                                           {"time_to_first_token_s", st.prefill_seconds},
                                           {"load_s", m.load_seconds},
                                           {"peak_rss_mb", peak_rss_bytes() / 1e6}}}};
    if (!f.stop.empty())  // as rollout reports it: which stop string ended the text, if one did
      j["stop_string"] = watch && watch->stopped() ? nlohmann::ordered_json(watch->matched()) : nlohmann::ordered_json();
    if (!text_out) {
      if (m.tokenizer) j["text"] = m.tokenizer->decode(out, /*skip_special=*/true);
      else j.erase("text");
    }
    std::cout << j.dump() << std::endl;
    return;
  }
  std::printf("\n");
  std::fprintf(stderr,
               "qlm: prompt %d tokens (%.1f tok/s), generated %d tokens (%.1f tok/s), first token %.3f s, "
               "load %.2f s, peak memory %.0f MB\n",
               st.prompt_tokens, st.prompt_tokens / std::max(st.prefill_seconds, 1e-9), st.generated_tokens,
               st.generated_tokens / std::max(st.decode_seconds, 1e-9), st.prefill_seconds, m.load_seconds,
               peak_rss_bytes() / 1e6);
}
}  // namespace

void add_generate(CLI::App& app) {
  auto f = std::make_shared<GenerateFlags>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate a continuation of a prompt, streamed as it is produced");
  cmd->add_option("-m,--model", f->model, "Model folder (Hugging Face or MLX layout)")->required();
  cmd->add_option("-p,--prompt", f->prompt, "Prompt text (the user turn when the chat template is applied)");
  cmd->add_option("--prompt-file", f->prompt_file, "Read the prompt text from a file");
  cmd->add_option("--ids", f->ids, "Prompt as token ids, comma-separated (e.g. 1,2,3); output is ids");
  cmd->add_flag("--chat", f->chat, "Apply the model's chat template (default when the model has one)");
  cmd->add_flag("--no-chat", f->no_chat, "Use the prompt as plain text, without the chat template");
  cmd->add_option("--system", f->system, "System prompt for the chat template");
  cmd->add_option("--max-tokens", f->max_tokens, "Maximum number of new tokens")
      ->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--stop", f->stop, "Stop when this text appears (not printed); repeatable");
  cmd->add_flag("--ignore-eos", f->ignore_eos, "Do not stop at end-of-sequence ids (for benchmarks)");
  cmd->add_flag("--json", f->json, "Print one JSON object: text, ids, finish reason, stats");
  add_sampling_flags(cmd, f->sampling);
  cmd->add_option("--top-logprobs", f->top_logprobs, "With --json: also the N most likely alternatives per token")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--expect-quantization", f->expect_quant,
                  "Fail unless the model has this quantization (q4_bit, q8_bit, bf16; YAML hardware.mlx_quantization)");
  cmd->callback([f, cmd] {
    f->prompt_given = cmd->count("--prompt") > 0;
    run_generate(*f);
  });
}

}  // namespace qlm::cli
