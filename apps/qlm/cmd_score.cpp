// qlm score: teacher-forced log-probabilities. With --ids: each token given its prefix. With
// --input FILE.jsonl: per line, the completion's tokens given the prompt (the reference-model
// pass of GRPO's KL term), batched across lines.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/progress.h"
#include "commands.h"
#include "output_file.h"
#include "request_lines.h"
#include "runtime/loaded_model.h"
#include "runtime/prompt.h"
#include "runtime/score.h"

namespace qlm::cli {

namespace {
using ojson = nlohmann::ordered_json;

struct ScoreOptions {
  std::string model_dir, ids, input, out = "-";
  int chunk = 64;
  bool no_chat = false, quiet = false;
};

void run_jsonl(const ScoreOptions& o) {
  std::ifstream in(o.input);
  if (!in) fail("--input: cannot open ", o.input);
  OutputFile out(o.out, "--out");  // a bad path fails now, not after the scoring
  LoadedModel m = load_model(o.model_dir);
  std::vector<ojson> records;
  std::vector<std::vector<int>> prompts, completions;
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (is_blank_line(text)) continue;
    const std::string where = cat(o.input, ":", n);
    ScoreLine line = parse_score_line(text, where, !o.no_chat && m.chat_template != nullptr);
    const PromptSpec& spec = line.spec;
    std::vector<int> completion = std::move(line.completion_ids);
    if (line.completion_text)
      completion = m.require_tokenizer("a text completion").encode(*line.completion_text, true);
    try {
      prompts.push_back(build_prompt(m, spec));
    } catch (const Error& e) {
      fail(where, ": ", e.what());
    }
    if (completion.empty()) fail(where, ": the completion is empty");
    check_token_ids(prompts.back(), m.net->config().vocab_size, cat(where, ": prompt"));
    check_token_ids(completion, m.net->config().vocab_size, cat(where, ": completion"));
    completions.push_back(std::move(completion));
    records.push_back(std::move(line.record));
  }
  std::vector<std::vector<double>> lps;
  {
    std::unique_ptr<Progress> bar;
    ScoreProgress report;
    if (!o.quiet)
      report = [&](int64_t done, int64_t total) {
        if (!bar) bar = std::make_unique<Progress>("score", static_cast<double>(total), 1, "tokens");
        bar->update(static_cast<double>(done), cat(records.size(), " pairs"));
      };
    lps = score_completions(*m.net, prompts, completions, 64, report);
    if (bar) bar->finish(cat(records.size(), " pairs"));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    ojson j = records[i];
    j["prompt_ids"] = prompts[i];
    j["completion_ids"] = completions[i];
    double sum = 0;
    for (double v : lps[i]) sum += v;
    j["logprobs"] = lps[i];
    j["sum_logprob"] = sum;
    out.write(j.dump() + "\n");
  }
  out.commit();
}

void run_score(const ScoreOptions& o) {
  if (!o.input.empty()) return run_jsonl(o);
  if (o.ids.empty()) fail("give --ids 1,2,3 or --input FILE.jsonl");
  std::vector<int> ids = parse_id_list(o.ids, "--ids");
  auto model = Transformer::load(o.model_dir);
  std::vector<double> lp = score_tokens(*model, ids, o.chunk);
  double sum = 0.0;
  for (double v : lp) sum += v;
  nlohmann::json j = {{"ids", ids}, {"logprobs", lp}, {"sum_logprob", sum}};
  std::cout << j.dump() << std::endl;
}
}  // namespace

void add_score(CLI::App& app) {
  auto o = std::make_shared<ScoreOptions>();
  CLI::App* cmd = app.add_subcommand(
      "score", "Teacher-forced log-probabilities: of --ids, or of each JSONL line's completion given its prompt");
  cmd->add_option("-m,--model", o->model_dir, "Model folder")->required();
  cmd->add_option("--ids", o->ids, "Token ids, comma-separated; ids[i] is scored given ids[0..i-1]");
  cmd->add_option("--input", o->input,
                  "JSONL: {prompt | prompt_ids | messages, completion | completion_ids}, extra fields kept");
  cmd->add_option("--out", o->out, "Output JSONL for --input (default: stdout; a file appears only when complete)");
  cmd->add_flag("--no-chat", o->no_chat, "Text prompts without the chat template");
  cmd->add_flag("--quiet", o->quiet, "No progress line (--input)");
  cmd->add_option("--chunk", o->chunk, "Tokens per forward call with --ids (1 = token-by-token decode path; for tests)")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->callback([o] { run_score(*o); });
}

}  // namespace qlm::cli
