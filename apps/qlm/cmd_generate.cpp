// qlm generate: greedy continuation of a prompt given as token ids.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/timer.h"
#include "commands.h"
#include "model/transformer.h"
#include "runtime/greedy.h"

namespace qlm::cli {

namespace {
struct GenerateOptions {
  std::string model_dir;
  std::string ids;
  int max_tokens = 32;
  bool json = false;
  bool ignore_eos = false;
};

void run_generate(const GenerateOptions& o) {
  std::vector<int> prompt = parse_id_list(o.ids, "--ids");
  Timer load_timer;
  auto model = Transformer::load(o.model_dir);
  const double load_s = load_timer.seconds();
  GreedyParams params{.max_new_tokens = o.max_tokens};
  if (!o.ignore_eos) params.stop_ids = model->config().eos_token_ids;
  Timer gen_timer;
  bool first = true;
  auto print_id = [&](int id) {
    if (o.json) return;
    std::printf(first ? "%d" : " %d", id);
    std::fflush(stdout);
    first = false;
  };
  std::vector<int> out = generate_greedy(*model, prompt, params, print_id);
  const double gen_s = gen_timer.seconds();
  const bool stopped = !out.empty() && !params.stop_ids.empty() &&
                       std::find(params.stop_ids.begin(), params.stop_ids.end(), out.back()) != params.stop_ids.end();
  if (o.json) {
    nlohmann::json j = {{"prompt_ids", prompt},
                        {"ids", out},
                        {"finish_reason", stopped ? "stop" : "length"},
                        {"load_seconds", load_s},
                        {"generate_seconds", gen_s}};
    std::cout << j.dump() << std::endl;
  } else {
    std::printf("\n");
    std::fprintf(stderr, "qlm: %zu prompt tokens, %zu generated in %.2f s (%.1f tok/s), load %.2f s\n",
                 prompt.size(), out.size(), gen_s, out.size() / std::max(gen_s, 1e-9), load_s);
  }
}
}  // namespace

void add_generate(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Greedy continuation of a prompt given as token ids");
  cmd->add_option("-m,--model", o->model_dir, "Model folder (Hugging Face or MLX layout)")->required();
  cmd->add_option("--ids", o->ids, "Prompt token ids, comma-separated (e.g. 1,2,3)")->required();
  cmd->add_option("--max-tokens", o->max_tokens, "Maximum number of new tokens")
      ->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object instead of ids");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Do not stop at end-of-sequence ids");
  cmd->callback([o] { run_generate(*o); });
}

}  // namespace qlm::cli
