// qlm rollout: N completions for each prompt of a JSONL file, with token ids and per-token
// log-probs, written line by line as they finish (an interrupted run loses nothing; --resume
// makes only the completions still missing).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "base/progress.h"
#include "commands.h"
#include "flag_checks.h"
#include "request_lines.h"
#include "runtime/loaded_model.h"
#include "runtime/prompt.h"
#include "runtime/rollout.h"
#include "runtime/stop_strings.h"
#include "sampling_flags.h"

namespace qlm::cli {

namespace {
using ojson = nlohmann::ordered_json;

struct RolloutFlags {
  std::string model, prompts, out, logprobs = "processed", system, expect_quant;
  int samples = 4, max_tokens = 256, top_logprobs = 0, max_batch = 32;
  double kv_cache_memory_gib = 0;
  double prefix_cache_memory_gib = 1;
  bool resume = false, no_chat = false, ignore_eos = false;
  std::vector<std::string> stop;
  SamplingParams sampling;
};

struct InputLine {
  ojson record;  // the whole input line: extra fields are carried to the output
  std::string id;
  std::vector<int> prompt_ids;
};

std::vector<InputLine> read_prompts(const RolloutFlags& f, const LoadedModel& m) {
  std::ifstream in(f.prompts);
  if (!in) fail("--prompts: cannot open ", f.prompts);
  std::vector<InputLine> lines;
  std::set<std::string> ids;
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (is_blank_line(text)) continue;
    const std::string where = cat(f.prompts, ":", n);
    RolloutLine parsed = parse_rollout_line(text, where, n, !f.no_chat && m.chat_template != nullptr, f.system);
    InputLine line;
    line.id = std::move(parsed.id);
    if (!ids.insert(line.id).second) fail(where, ": id '", line.id, "' appears twice");
    const PromptSpec& spec = parsed.spec;
    try {
      line.prompt_ids = build_prompt(m, spec);
    } catch (const Error& e) {
      fail(where, ": ", e.what());
    }
    line.record = std::move(parsed.record);
    lines.push_back(std::move(line));
  }
  return lines;
}

// Completions already in the output file (for --resume): id -> sample indices.
std::map<std::string, std::set<int>> read_done(const std::string& path) {
  std::map<std::string, std::set<int>> done;
  std::ifstream in(path);
  std::string text;
  while (std::getline(in, text))
    if (auto line = parse_done_line(text)) done[line->first].insert(line->second);  // skips a torn last line
  return done;
}

void run_rollout(const RolloutFlags& f) {
  LoadedModel m = load_model(f.model);
  check_expected_quantization(m.net->config(), f.expect_quant, "--expect-quantization");
  std::vector<InputLine> lines = read_prompts(f, m);
  std::map<std::string, std::set<int>> done;
  if (f.resume) done = read_done(f.out);
  std::vector<RolloutRequest> requests;
  std::vector<size_t> line_of;
  size_t skipped = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    RolloutRequest r{.id = lines[i].id, .prompt_ids = lines[i].prompt_ids};
    for (int k = 0; k < f.samples; ++k)
      if (!done[lines[i].id].count(k)) r.sample_indices.push_back(k);
    if (r.sample_indices.empty()) {
      ++skipped;
      continue;
    }
    requests.push_back(std::move(r));
    line_of.push_back(i);
  }
  if (f.resume && skipped) std::fprintf(stderr, "rollout: --resume: %zu prompts already complete\n", skipped);

  // Output: appended line by line and flushed, so a killed run keeps every finished line.
  if (f.resume) {  // drop a torn last line left by a kill, so appends start on a fresh line
    std::ifstream in(f.out, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!all.empty() && all.back() != '\n') {
      all.resize(all.rfind('\n') == std::string::npos ? 0 : all.rfind('\n') + 1);
      std::ofstream(f.out, std::ios::binary | std::ios::trunc) << all;
    }
  }
  FILE* out = f.out == "-" ? stdout : std::fopen(f.out.c_str(), f.resume ? "a" : "w");
  if (out == nullptr) fail("--out: cannot write ", f.out);

  RolloutParams params{.samples_per_prompt = f.samples, .max_new_tokens = f.max_tokens, .sampling = f.sampling,
                       .logprobs = f.logprobs == "raw" ? LogprobMode::Raw : LogprobMode::Processed,
                       .top_logprobs = f.top_logprobs, .max_batch = f.max_batch,
                       .kv_budget_bytes = f.kv_cache_memory_gib * kBytesPerGiB,
                       .prefix_cache_bytes = f.prefix_cache_memory_gib * kBytesPerGiB};
  if (f.logprobs != "raw" && f.logprobs != "processed") fail("--logprobs: '", f.logprobs, "' is not raw or processed");
  if (!f.ignore_eos) params.stop_ids = m.stop_ids;
  params.stop_strings = f.stop;
  params.tokenizer = m.tokenizer.get();
  size_t total = 0;
  for (const auto& r : requests) total += r.sample_indices.size();
  // Counted in tokens, redrawn after every step: with many samples running, completions come
  // in bursts near the end and a bar of completions would sit still for minutes. The total is
  // every sample's max_tokens, less what each leaves unused when it stops early.
  double token_budget = static_cast<double>(total) * f.max_tokens;
  Progress progress("rollout", token_budget, 1, "tok");
  size_t completed = 0;
  int64_t tokens = 0;
  std::map<size_t, int> left;
  for (size_t i = 0; i < requests.size(); ++i) left[i] = static_cast<int>(requests[i].sample_indices.size());
  size_t prompts_done = 0;
  auto counts = [&] { return cat(completed, "/", total, " completions, ", prompts_done, "/", requests.size(), " prompts"); };
  RolloutEngine engine(*m.net, params);
  RolloutStats st = engine.run(requests, [&](const Completion& c) {
    const InputLine& line = lines[line_of[c.request]];
    ojson j = line.record;
    j.erase("prompt_ids");
    j["id"] = line.record.contains("id") ? line.record["id"] : ojson(line.id);
    j["sample"] = c.sample;
    j["prompt_ids"] = line.prompt_ids;
    j["completion_ids"] = c.ids;
    if (m.tokenizer)  // with --stop, cut before the stop string (the ids keep the token that made it)
      j["text"] = f.stop.empty() ? m.tokenizer->decode(c.ids, /*skip_special=*/true)
                                 : text_before_stop(*m.tokenizer, c.ids, f.stop, params.stop_ids);
    j["logprobs"] = c.logprobs;
    if (!c.top.empty()) {
      ojson top = ojson::array();
      for (const auto& t : c.top) {
        ojson alt = ojson::array();
        for (auto [id, lp] : t) alt.push_back({id, lp});
        top.push_back(alt);
      }
      j["top_logprobs"] = top;
    }
    j["finish_reason"] = c.finish_reason;
    if (!f.stop.empty()) j["stop_string"] = c.stop_string.empty() ? ojson() : ojson(c.stop_string);
    j["timing"] = {{"seconds", c.seconds}, {"tokens", c.ids.size()}};
    const std::string s = j.dump() + "\n";
    std::fwrite(s.data(), 1, s.size(), out);
    std::fflush(out);
    ++completed;
    tokens += static_cast<int64_t>(c.ids.size());
    if (--left[c.request] == 0) ++prompts_done;
    token_budget -= static_cast<double>(f.max_tokens) - static_cast<double>(c.ids.size());
    progress.set_total(token_budget);
  }, [&](const EngineCounters& n) { progress.update(static_cast<double>(n.generated_tokens.load()), counts()); });
  progress.finish(counts());
  if (out != stdout) std::fclose(out);
  std::fprintf(stderr,
               "rollout: %zu completions of %zu prompts, %lld tokens in %.1f s (%.1f tok/s aggregate), "
               "%d prompt prefills, batch up to %d\n",
               completed, requests.size(), static_cast<long long>(st.generated_tokens), st.seconds,
               st.generated_tokens / std::max(st.seconds, 1e-9), st.prefills, st.max_batch_seen);
  if (st.cached_prompt_tokens > 0)
    std::fprintf(stderr, "rollout: %lld of the %lld prompt tokens were copied from the prefix cache\n",
                 static_cast<long long>(st.cached_prompt_tokens), static_cast<long long>(st.prompt_tokens));
  if (st.kv_budget_waits > 0)
    std::fprintf(stderr,
                 "rollout: the KV cache budget (%.2f GiB for every admitted sample at max tokens) held "
                 "back admissions; --kv-cache-memory raises it\n",
                 st.kv_budget_bytes / kBytesPerGiB);
}
}  // namespace

void add_rollout(CLI::App& app) {
  auto f = std::make_shared<RolloutFlags>();
  CLI::App* cmd = app.add_subcommand(
      "rollout", "N sampled completions per prompt (JSONL in, JSONL out) with token ids and log-probs, for RL");
  cmd->add_option("-m,--model", f->model, "Model folder")->required();
  cmd->add_option("--prompts", f->prompts, "JSONL: {id, prompt} | {id, messages} | {id, prompt_ids}, extra fields kept")
      ->required();
  cmd->add_option("--out,-o", f->out, "Output JSONL (one line per completion; - for stdout)")->required();
  cmd->add_option("--samples-per-prompt,-n", f->samples, "Completions per prompt")->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--max-tokens", f->max_tokens, "Maximum new tokens per completion")->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  add_sampling_flags(cmd, f->sampling);
  cmd->add_option("--logprobs", f->logprobs,
                  "raw: the model's distribution (T = 1); processed: after temperature and top-k/top-p (vLLM's "
                  "processed_logprobs)")->capture_default_str();
  cmd->add_option("--top-logprobs", f->top_logprobs, "Also the N most likely alternatives per token")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--max-batch", f->max_batch, "Sequences decoding at once")->capture_default_str();
  cmd->add_option("--kv-cache-memory", f->kv_cache_memory_gib,
                  "GiB the admitted samples' KV caches may take at worst (all at max tokens); a prompt waits "
                  "while its samples would pass it (0 = 80% of the memory available at start)")
      ->capture_default_str()
      ->check(gib_amount());
  cmd->add_option("--prefix-cache-memory", f->prefix_cache_memory_gib,
                  "GiB of finished prompts' KV caches kept so that prompts starting with the same tokens (a "
                  "few-shot preamble) copy them instead of computing them again; results are unchanged "
                  "(0 = off)")
      ->capture_default_str()
      ->check(gib_amount("off"));
  cmd->add_option("--system", f->system, "System prompt for text prompts");
  cmd->add_flag("--no-chat", f->no_chat, "Text prompts without the chat template");
  cmd->add_flag("--ignore-eos", f->ignore_eos, "Do not stop at end-of-sequence ids");
  cmd->add_option("--stop", f->stop,
                  "End a completion when this text appears in it (repeatable): the token completing it is "
                  "kept in the ids, the text is cut before it, and stop_string names it");
  cmd->add_flag("--resume", f->resume, "Append to --out, making only the completions it does not have yet");
  cmd->add_option("--expect-quantization", f->expect_quant, "Fail unless the model has this quantization");
  cmd->callback([f] { run_rollout(*f); });
}

}  // namespace qlm::cli
