// qlm preload: the seed workflow's "preload and test": load, check, warm up, run a test prompt,
// report load time, memory, size, bits per weight and speed; non-zero exit if anything is off.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/memory_stats.h"
#include "commands.h"
#include "convert/inspect.h"
#include "runtime/generator.h"
#include "runtime/greedy.h"
#include "runtime/loaded_model.h"
#include "runtime/prompt.h"

namespace qlm::cli {

namespace {
struct PreloadFlags {
  std::string model, prompt = "Hello! Please introduce yourself in one sentence.", expect_quant;
  int max_tokens = 32;
  bool json = false;
};

int run_preload(const PreloadFlags& f) {
  LoadedModel m = load_model(f.model);
  check_expected_quantization(m.net->config(), f.expect_quant, "--expect-quantization");
  const auto report = inspect_model(f.model, InspectOptions{.scan_values = false});
  std::vector<std::string> problems;
  for (const auto& c : report["checks"])
    if (!c["ok"].get<bool>()) problems.push_back(c["check"].get<std::string>() + ": " + c["detail"].get<std::string>());

  // Warm-up: touches every weight page once and fills caches.
  const int bos = m.net->config().bos_token_id.value_or(0);
  GenerateParams warm{.max_new_tokens = 4};
  GenerateStats warm_stats;
  std::vector<int> bos_prompt{bos};
  generate(*m.net, bos_prompt, warm, nullptr, nullptr, &warm_stats);

  // The test prompt: through the chat template when the model has one.
  std::vector<int> prompt;
  if (m.tokenizer) {
    PromptSpec spec{.text = f.prompt, .chat = m.chat_template != nullptr};
    prompt = build_prompt(m, spec);
  } else {
    prompt = bos_prompt;
  }
  bool finite = true;
  auto choose = [&](float* logits) {
    for (int i = 0; i < m.net->config().vocab_size; ++i)
      if (!std::isfinite(logits[i])) finite = false;
    return argmax(logits, m.net->config().vocab_size);
  };
  GenerateStats st;
  std::vector<int> out = generate(*m.net, prompt, GenerateParams{.max_new_tokens = f.max_tokens, .stop_ids = m.stop_ids},
                                  choose, nullptr, &st);
  if (!finite) problems.push_back("the model produced NaN or Inf logits");
  if (out.empty()) problems.push_back("the model generated nothing");
  std::string text = m.tokenizer ? m.tokenizer->decode(out, /*skip_special=*/true) : "";
  const double decode_tps = st.generated_tokens / std::max(st.decode_seconds, 1e-9);
  const double prefill_tps = st.prompt_tokens / std::max(st.prefill_seconds, 1e-9);

  // KV cache cost per token (K is allocated in blocks of 16 positions: exact per 16 tokens).
  const ModelConfig& cfg = m.net->config();
  const double kv_per_token =
      KVCache::bytes_for(cfg, KVCache::kKeyBlock, m.net->kv_dtype()) / double(KVCache::kKeyBlock);
  nlohmann::ordered_json j = {
      {"model", f.model},
      {"load_seconds", m.load_seconds},
      {"resident_mb", current_rss_bytes() / 1e6},
      {"peak_resident_mb", peak_rss_bytes() / 1e6},
      {"model_mb", report["file_bytes"].get<double>() / 1e6},
      {"bits_per_weight", report.value("bits_per_weight", 0.0)},
      {"kv_cache_dtype", kv_dtype_name(m.net->kv_dtype())},
      {"kv_bytes_per_token", kv_per_token},
      {"context_length", cfg.max_position_embeddings},
      {"formats", report.value("formats", nlohmann::ordered_json::object())},
      {"prompt_tokens", st.prompt_tokens},
      {"prefill_tok_per_s", prefill_tps},
      {"generated_tokens", st.generated_tokens},
      {"decode_tok_per_s", decode_tps},
      {"test_output", text},
      {"problems", problems},
      {"ok", problems.empty()}};
  if (f.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::printf("model          %s\n", f.model.c_str());
    std::printf("load           %.2f s\n", m.load_seconds);
    std::printf("memory         %.0f MB resident (peak %.0f MB), model files %.0f MB\n", current_rss_bytes() / 1e6,
                peak_rss_bytes() / 1e6, report["file_bytes"].get<double>() / 1e6);
    if (report.contains("bits_per_weight"))
      std::printf("bits/weight    %.2f\n", report["bits_per_weight"].get<double>());
    std::printf("kv cache       %s, %.1f KB per token (%d-token context: %.0f MB per sequence)\n",
                kv_dtype_name(m.net->kv_dtype()), kv_per_token / 1e3, cfg.max_position_embeddings,
                kv_per_token * cfg.max_position_embeddings / 1e6);
    std::printf("speed          prefill %.1f tok/s (%d tokens), decode %.1f tok/s (%d tokens)\n", prefill_tps,
                st.prompt_tokens, decode_tps, st.generated_tokens);
    if (m.tokenizer) std::printf("test output    %s\n", nlohmann::json(text).dump().c_str());
    for (const std::string& p : problems) std::printf("PROBLEM        %s\n", p.c_str());
    std::printf("verdict        %s\n", problems.empty() ? "ok" : "problems found");
  }
  return problems.empty() ? 0 : 2;
}
}  // namespace

void add_preload(CLI::App& app) {
  auto f = std::make_shared<PreloadFlags>();
  CLI::App* cmd = app.add_subcommand(
      "preload", "Load, check, warm up and test a model; report load time, memory, size, bits/weight, speed");
  cmd->add_option("-m,--model", f->model, "Model folder")->required();
  cmd->add_option("-p,--prompt", f->prompt, "Test prompt")->capture_default_str();
  cmd->add_option("--max-tokens", f->max_tokens, "Tokens to generate for the test")->capture_default_str();
  cmd->add_option("--expect-quantization", f->expect_quant, "Fail unless the model has this quantization (q4_bit, q8_bit, bf16)");
  cmd->add_flag("--json", f->json, "JSON report");
  cmd->callback([f] {
    if (int rc = run_preload(*f); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace qlm::cli
