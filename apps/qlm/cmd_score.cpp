// qlm score: teacher-forced log-probabilities. With --ids: each token given its prefix. With
// --input FILE.jsonl: per line, the completion's tokens given the prompt (the reference-model
// pass of GRPO's KL term), batched across lines, each output line written as soon as it and
// every line before it are scored (an interrupted run keeps them; --resume goes on from there).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
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
  bool no_chat = false, quiet = false, resume = false;
};

// The output line of pair i: its input record with the ids and log-probs.
std::string score_line(const ojson& record, const std::vector<int>& prompt, const std::vector<int>& completion,
                       const std::vector<double>& logprobs) {
  ojson j = record;
  j["prompt_ids"] = prompt;
  j["completion_ids"] = completion;
  double sum = 0;
  for (double v : logprobs) sum += v;
  j["logprobs"] = logprobs;
  j["sum_logprob"] = sum;
  return j.dump();
}

// --resume: the lines an earlier run wrote must be the scores of the input's first pairs, in
// order (the output follows the input); anything else means another input or model run.
void check_kept_lines(const std::vector<std::string>& kept, const std::vector<std::vector<int>>& prompts,
                      const std::vector<std::vector<int>>& completions, const ScoreOptions& o) {
  if (kept.size() > prompts.size())
    fail("--resume: ", o.out, " has ", kept.size(), " lines but ", o.input, " only ", prompts.size(),
         " pairs (another input?)");
  for (size_t i = 0; i < kept.size(); ++i) {
    bool same = false;
    try {
      const ojson j = ojson::parse(kept[i]);
      same = j.at("prompt_ids").get<std::vector<int>>() == prompts[i] &&
             j.at("completion_ids").get<std::vector<int>>() == completions[i] && j.at("logprobs").is_array();
    } catch (const std::exception&) {
    }
    if (!same)
      fail("--resume: line ", i + 1, " of ", o.out, " is not the score of pair ", i + 1, " of ", o.input,
           " (another input?)");
  }
}

void run_jsonl(const ScoreOptions& o) {
  std::ifstream in(o.input);
  if (!in) fail("--input: cannot open ", o.input);
  StreamedOutput out(o.out, "--out", o.resume);  // a bad path fails now, not after the scoring
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
  const size_t n = records.size(), kept = out.kept_lines().size();
  check_kept_lines(out.kept_lines(), prompts, completions, o);
  if (o.resume && kept > 0) std::fprintf(stderr, "score: --resume: %zu of %zu pairs already scored\n", kept, n);

  // Pairs finish out of order (a shared prompt's pairs run together): each line waits until
  // every line before it is written, so the output follows the input.
  const std::vector<std::vector<int>> todo_prompts(prompts.begin() + kept, prompts.end());
  const std::vector<std::vector<int>> todo_completions(completions.begin() + kept, completions.end());
  std::vector<std::optional<std::string>> ready(n - kept);
  size_t written = 0;  // of the pairs to do
  std::unique_ptr<Progress> bar;
  ScoreProgress report;
  if (!o.quiet)
    report = [&](int64_t done, int64_t total) {
      if (!bar) bar = std::make_unique<Progress>("score", static_cast<double>(total), 1, "tokens");
      bar->update(static_cast<double>(done), cat(kept + written, " of ", n, " pairs written"));
    };
  score_completions(*m.net, todo_prompts, todo_completions, 64, report,
                    [&](size_t i, const std::vector<double>& lp) {
                      ready[i] = score_line(records[kept + i], todo_prompts[i], todo_completions[i], lp);
                      for (; written < ready.size() && ready[written]; ++written) {
                        out.write_line(*ready[written]);
                        ready[written].reset();
                      }
                    });
  if (bar) bar->finish(cat(n, " pairs"));
  out.commit();
}

void run_score(const ScoreOptions& o) {
  if (!o.input.empty()) return run_jsonl(o);
  if (o.resume) fail("--resume needs --input (it continues an --out file)");
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
  cmd->add_option("--out", o->out,
                  "Output JSONL for --input, one line per input line in input order (default: stdout). Lines "
                  "stream into OUT.partial, renamed to OUT when all are scored");
  cmd->add_flag("--resume", o->resume,
                "Keep the lines an interrupted run left in OUT.partial (checked against --input) and score the rest");
  cmd->add_flag("--no-chat", o->no_chat, "Text prompts without the chat template");
  cmd->add_flag("--quiet", o->quiet, "No progress line (--input)");
  cmd->add_option("--chunk", o->chunk, "Tokens per forward call with --ids (1 = token-by-token decode path; for tests)")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->callback([o] { run_score(*o); });
}

}  // namespace qlm::cli
