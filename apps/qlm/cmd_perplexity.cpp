// qlm perplexity: perplexity on a text and, with --base, KL divergence to the base model.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/progress.h"
#include "base/timer.h"
#include "commands.h"
#include "runtime/perplexity.h"
#include "text_input.h"

namespace qlm::cli {

namespace {
struct PerplexityFlags {
  std::string model, base, text, range;
  int ctx = 512, max_windows = 0;
  bool json = false;
};

void run_perplexity(const PerplexityFlags& f) {
  Timer timer;
  auto model = Transformer::load(f.model);
  std::unique_ptr<Transformer> base;
  if (!f.base.empty()) base = Transformer::load(f.base);
  auto tok = load_tokenizer_for(f.model, "perplexity");
  std::string text = slice_text(read_text_file(f.text, "--text"), f.range);
  std::vector<int> ids = encode_text(*tok, text, /*allow_special=*/false);
  Progress progress("perplexity", 1, 1, "windows");
  PerplexityResult r = measure_perplexity(
      *model, base.get(), ids, PerplexityOptions{.ctx = f.ctx, .max_windows = f.max_windows},
      [&](int done, int total) {
        progress = done == 1 ? Progress("perplexity", total, 1, "windows") : progress;
        progress.update(done);
      });
  nlohmann::ordered_json j = {{"model", f.model}, {"text", f.text}, {"range", f.range},
                              {"ctx", f.ctx}, {"windows", r.windows}, {"tokens_scored", r.tokens_scored},
                              {"ppl", r.ppl}, {"mean_nll", r.mean_nll}};
  if (r.has_base) {
    j["base"] = f.base;
    j["base_ppl"] = r.base_ppl;
    j["ppl_ratio"] = r.ppl / r.base_ppl;
    j["kl_mean"] = r.kl_mean;
    j["kl_p99"] = r.kl_p99;
    j["kl_max"] = r.kl_max;
    j["top1_agreement"] = r.top1_agreement;
    j["mean_abs_dp"] = r.mean_abs_dp;
  }
  j["seconds"] = timer.seconds();
  if (f.json) {
    std::cout << j.dump() << std::endl;
    return;
  }
  std::printf("perplexity %.4f over %lld tokens (%d windows of %d)\n", r.ppl,
              static_cast<long long>(r.tokens_scored), r.windows, f.ctx);
  if (r.has_base)
    std::printf("base perplexity %.4f (ratio %.4f)\nKL divergence: mean %.6f, p99 %.6f, max %.6f\n"
                "top-1 agreement %.2f%%, mean |dp| %.5f\n",
                r.base_ppl, r.ppl / r.base_ppl, r.kl_mean, r.kl_p99, r.kl_max, 100 * r.top1_agreement,
                r.mean_abs_dp);
}
}  // namespace

void add_perplexity(CLI::App& app) {
  auto f = std::make_shared<PerplexityFlags>();
  CLI::App* cmd = app.add_subcommand("perplexity",
                                     "Perplexity on a text; with --base also KL divergence, top-1 agreement, |dp|");
  cmd->add_option("-m,--model", f->model, "Model folder")->required();
  cmd->add_option("--text", f->text, "Text file to evaluate on")->required();
  cmd->add_option("--base", f->base, "Unquantized base model for KL statistics");
  cmd->add_option("--ctx", f->ctx, "Window length in tokens")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--range", f->range, "Part of the text to use, as fractions LO:HI (e.g. 0.9:1 = last 10%)");
  cmd->add_option("--max-windows", f->max_windows, "Evaluate at most this many windows (0 = all)");
  cmd->add_flag("--json", f->json, "One JSON object");
  cmd->callback([f] { run_perplexity(*f); });
}

}  // namespace qlm::cli
