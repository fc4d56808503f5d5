// qlm score: teacher-forced log-probability of each token given its prefix, as JSON.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "model/transformer.h"
#include "runtime/score.h"

namespace qlm::cli {

namespace {
struct ScoreOptions {
  std::string model_dir;
  std::string ids;
  int chunk = 64;
};

void run_score(const ScoreOptions& o) {
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
      "score", "Log-probability of each token given the tokens before it (teacher forcing), as JSON");
  cmd->add_option("-m,--model", o->model_dir, "Model folder")->required();
  cmd->add_option("--ids", o->ids, "Token ids, comma-separated; ids[i] is scored given ids[0..i-1]")->required();
  cmd->add_option("--chunk", o->chunk,
                  "Tokens per forward call (1 = token-by-token decode path; for tests)")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->callback([o] { run_score(*o); });
}

}  // namespace qlm::cli
