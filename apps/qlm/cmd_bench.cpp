// qlm bench: models side by side on this machine: size, bits/weight, load time, peak memory,
// prefill and decode speed (median and min-max over repetitions, models alternated so drift
// favours none), time to first token, roofline fraction, and quality against the best model.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "base/bandwidth.h"
#include "base/cpu_info.h"
#include "base/error.h"
#include "base/memory_stats.h"
#include "base/timer.h"
#include "bench_hf.h"
#include "bench_quality.h"
#include "bench_report.h"
#include "commands.h"
#include "output_file.h"
#include "convert/inspect.h"
#include "kernels/kernel_table.h"
#include "runtime/speed.h"

namespace qlm::cli {

namespace {
using ojson = nlohmann::ordered_json;

struct BenchFlags {
  std::vector<std::string> models;
  std::string models_from_hf, quant_method = "search";
  std::vector<std::string> quantize{"q4", "q8", "bf16"};
  int prompt_tokens = 512, gen_tokens = 128, reps = 5;
  std::vector<int> depths{0}, batch{1};
  std::string quality_text;
  int quality_ctx = 256, quality_windows = 0;
  bool no_quality = false;
  std::string json_path, markdown_path, plot_path, note;
};

std::string describe_format(const ojson& report) {
  std::string out;
  for (auto it = report["formats"].begin(); it != report["formats"].end(); ++it) {
    if (!out.empty()) out += " + ";
    out += it.key();
  }
  return out;
}

void measure_models(const BenchFlags& f, BenchRun& run) {
  // Repetitions outermost and models alternating inside, so slow drift hits every model alike.
  for (int rep = 0; rep <= f.reps; ++rep) {  // rep 0 warms up (page cache, caches) and is dropped
    if (bench_interrupted()) fail("bench: interrupted");
    run.bandwidth_samples.v.push_back(measure_read_bandwidth(size_t{1} << 30, 3));
    run.bandwidth = run.bandwidth_samples.median();
    std::fprintf(stderr, "bench: read bandwidth %.1f GB/s (test %d/%d)\n", run.bandwidth_samples.v.back() / 1e9, rep + 1,
                 f.reps + 1);
    for (ModelResult& r : run.models) {
      if (bench_interrupted()) fail("bench: interrupted");
      std::fprintf(stderr, "bench: %s %d/%d: %s\n", rep == 0 ? "warm-up" : "run", rep, f.reps, r.dir.c_str());
      reset_peak_rss();
      Timer t;
      auto model = Transformer::load(r.dir);
      const double load = t.seconds();
      r.bytes_per_token = decode_bytes_per_token(*model, 0);
      SpeedSample pp = measure_speed(*model, f.prompt_tokens, 0, 0, 1000 + rep);
      std::vector<double> tg;
      for (int d : f.depths) tg.push_back(measure_speed(*model, 0, f.gen_tokens, d, 2000 + rep).decode_tok_per_s);
      std::vector<double> tb;
      for (int b : run.batches)
        tb.push_back(measure_batched_decode(*model, b, f.gen_tokens, f.depths.empty() ? 0 : f.depths[0], 3000 + rep));
      if (rep == 0) continue;
      r.load_s.v.push_back(load);
      r.peak_mb.v.push_back(peak_rss_bytes() / 1e6);
      r.prefill.v.push_back(pp.prefill_tok_per_s);
      r.ttft.v.push_back(pp.ttft_seconds);
      for (size_t k = 0; k < tg.size(); ++k) r.decode[k].v.push_back(tg[k]);
      for (size_t k = 0; k < tb.size(); ++k) r.batched[k].v.push_back(tb[k]);
    }
  }
}

void run_bench(const BenchFlags& f) {
  std::vector<int> batches;  // batch 1 is the per-depth decode test; the others run in lock-step
  for (int b : f.batch) {
    if (b < 1 || b > 1024) fail("--batch ", b, ": batch sizes must be between 1 and 1024");
    if (b > 1 && std::find(batches.begin(), batches.end(), b) == batches.end()) batches.push_back(b);
  }
  for (int d : f.depths)
    if (d < 0) fail("--depth ", d, ": depths must be 0 or more");
  if (f.models.empty() && f.models_from_hf.empty()) fail("bench: give -m MODEL (repeatable) or --models-from-hf DIR");
  // Opened now, so a bad path fails before minutes of measuring; each file appears only whole.
  std::optional<OutputFile> json, markdown, plot;
  if (!f.json_path.empty()) json.emplace(f.json_path, "--json");
  if (!f.markdown_path.empty()) markdown.emplace(f.markdown_path, "--markdown");
  if (!f.plot_path.empty()) plot.emplace(f.plot_path, "--plot");
  std::optional<TempConversions> converted;  // removed when run_bench returns or throws
  std::vector<std::string> dirs = f.models;
  if (!f.models_from_hf.empty()) {
    converted.emplace(f.models_from_hf, f.quantize, f.quant_method);
    dirs.insert(dirs.end(), converted->dirs().begin(), converted->dirs().end());
  }

  BenchRun run{.threads = omp_get_max_threads(), .isa = kernels().isa,
               .kv_cache_dtype = kv_dtype_name(default_kv_dtype()), .prompt_tokens = f.prompt_tokens,
               .gen_tokens = f.gen_tokens, .reps = f.reps, .depths = f.depths, .batches = batches, .note = f.note};
  for (const std::string& dir : dirs) {
    const ojson report = inspect_model(dir, InspectOptions{.scan_values = false});
    ModelResult r{.dir = dir, .label = std::filesystem::path(dir).lexically_normal().filename().string(),
                  .format = describe_format(report), .file_mb = report["file_bytes"].get<double>() / 1e6,
                  .bpw = report.value("bits_per_weight", 0.0)};
    if (r.label.empty()) r.label = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
    r.decode.resize(f.depths.size());
    r.batched.resize(batches.size());
    run.models.push_back(std::move(r));
  }
  // After inspecting, so a bad folder fails before the bandwidth tests' seconds are spent.
  std::fprintf(stderr, "bench: %d threads, kernels %s; a read-bandwidth test before every repetition\n",
               run.threads, run.isa.c_str());
  run.last_level_cache = static_cast<double>(last_level_cache_bytes());
  measure_models(f, run);

  // Quality after speed, so loading two models at once never inflates a peak-memory figure.
  if (!f.no_quality && run.models.size() > 1) {
    std::vector<QualityInput> in;
    for (const ModelResult& r : run.models) in.push_back({.dir = r.dir, .bits_per_weight = r.bpw});
    const std::vector<QualityResult> q = measure_bench_quality(
        in, QualityOptions{.text_path = f.quality_text, .ctx = f.quality_ctx, .max_windows = f.quality_windows});
    for (size_t i = 0; i < q.size(); ++i) run.models[i].quality = q[i];
  }

  std::printf("read bandwidth %.1f GB/s (median of %zu tests; highest %.1f), %d threads, kernels %s, KV cache %s, "
              "median (min–max) of %d runs\n\n%s",
              run.bandwidth / 1e9, run.bandwidth_samples.v.size(), run.bandwidth_samples.max() / 1e9, run.threads,
              run.isa.c_str(), run.kv_cache_dtype.c_str(), f.reps, bench_markdown(run).c_str());
  const std::pair<std::optional<OutputFile>*, std::string> files[] = {
      {&json, json ? bench_json(run).dump(2) + "\n" : ""},
      {&markdown, markdown ? bench_markdown(run) : ""},
      {&plot, plot ? bench_svg(run) : ""}};
  for (const auto& [file, text] : files)
    if (*file) {
      (*file)->write(text);
      (*file)->commit();
    }
}
}  // namespace

void add_bench(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Benchmark models side by side: size, memory, prefill/decode speed, roofline, quality");
  cmd->add_option("-m,--model", f->models, "Model folder (repeat for several)");
  cmd->add_option("--models-from-hf", f->models_from_hf,
                  "Hugging Face checkpoint: convert it to each --quantize format in a temporary folder, bench all")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--quantize", f->quantize, "Formats for --models-from-hf, comma-separated")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--quant-method", f->quant_method, "Quantization method for --models-from-hf: search or rtn")
      ->capture_default_str();
  cmd->add_option("--prompt-tokens", f->prompt_tokens, "Prompt length for the prefill test")->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--gen-tokens", f->gen_tokens, "Tokens per decode test")->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--depth", f->depths, "Context depths for decode, comma-separated (e.g. 0,512,2048)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--batch", f->batch, "Decode batch sizes, comma-separated (e.g. 1,8,32): sequences decoded in lock-step, aggregate tok/s")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--reps", f->reps, "Repetitions (median and min-max are reported)")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--quality-text", f->quality_text, "Text for the quality pass (default: a built-in passage)");
  cmd->add_option("--quality-ctx", f->quality_ctx, "Quality window length in tokens")->capture_default_str()
      ->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--quality-windows", f->quality_windows, "Quality windows at most (0 = all the text gives)")
      ->capture_default_str();
  cmd->add_flag("--no-quality", f->no_quality, "Skip the quality pass");
  cmd->add_option("--json", f->json_path, "Write the results as JSON");
  cmd->add_option("--markdown", f->markdown_path, "Write the table as Markdown");
  cmd->add_option("--plot", f->plot_path, "Write an SVG chart (speed, memory, quality)");
  cmd->add_option("--note", f->note, "A line shown under the table and on the chart");
  cmd->callback([f] { run_bench(*f); });
}

}  // namespace qlm::cli
