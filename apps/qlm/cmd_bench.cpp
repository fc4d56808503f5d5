// qlm bench: models side by side on this machine: size, bits/weight, load time, peak memory,
// prefill and decode speed (median and min-max over repetitions, models alternated so drift
// favours none), time to first token, and the roofline fraction of batch-1 decode against the
// read bandwidth measured in the same run.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/bandwidth.h"
#include "base/error.h"
#include "base/memory_stats.h"
#include "base/timer.h"
#include "commands.h"
#include "convert/inspect.h"
#include "kernels/kernel_table.h"
#include "runtime/speed.h"

namespace qlm::cli {

namespace {
using ojson = nlohmann::ordered_json;

struct BenchFlags {
  std::vector<std::string> models;
  int prompt_tokens = 512, gen_tokens = 128, reps = 5;
  std::vector<int> depths{0};
  std::string json_path, markdown_path;
};

struct Stat {
  std::vector<double> v;
  double median() const {
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    return s.empty() ? 0 : (s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]));
  }
  double min() const { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
  double max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
  ojson json() const { return {{"median", median()}, {"min", min()}, {"max", max()}}; }
};

struct ModelResult {
  std::string dir, format;
  double file_mb = 0, bpw = 0, bytes_per_token = 0;
  Stat load_s, peak_mb, prefill, ttft;
  std::vector<Stat> decode;  // per depth
};

std::string describe_format(const ojson& report) {
  std::string out;
  for (auto it = report["formats"].begin(); it != report["formats"].end(); ++it) {
    if (!out.empty()) out += " + ";
    out += it.key();
  }
  return out;
}

void run_bench(const BenchFlags& f) {
  std::fprintf(stderr, "bench: measuring read bandwidth (%d threads)...\n", omp_get_max_threads());
  const double bandwidth = measure_read_bandwidth();
  std::fprintf(stderr, "bench: read bandwidth %.1f GB/s; kernels: %s\n", bandwidth / 1e9, kernels().isa.c_str());
  std::vector<ModelResult> results(f.models.size());
  for (size_t i = 0; i < f.models.size(); ++i) {
    const ojson report = inspect_model(f.models[i], InspectOptions{.scan_values = false});
    results[i].dir = f.models[i];
    results[i].format = describe_format(report);
    results[i].file_mb = report["file_bytes"].get<double>() / 1e6;
    results[i].bpw = report.value("bits_per_weight", 0.0);
    results[i].decode.resize(f.depths.size());
  }
  // Repetitions outermost and models alternating inside, so slow drift hits every model alike.
  for (int rep = 0; rep <= f.reps; ++rep) {  // rep 0 warms up (page cache, caches) and is dropped
    for (size_t i = 0; i < f.models.size(); ++i) {
      ModelResult& r = results[i];
      std::fprintf(stderr, "bench: %s rep %d/%d: %s\n", rep == 0 ? "warm-up" : "run", rep, f.reps, r.dir.c_str());
      reset_peak_rss();
      Timer t;
      auto model = Transformer::load(r.dir);
      const double load = t.seconds();
      r.bytes_per_token = decode_bytes_per_token(*model, 0);
      SpeedSample pp = measure_speed(*model, f.prompt_tokens, 0, 0, 1000 + rep);
      std::vector<double> tg;
      for (int d : f.depths) tg.push_back(measure_speed(*model, 0, f.gen_tokens, d, 2000 + rep).decode_tok_per_s);
      if (rep == 0) continue;
      r.load_s.v.push_back(load);
      r.peak_mb.v.push_back(peak_rss_bytes() / 1e6);
      r.prefill.v.push_back(pp.prefill_tok_per_s);
      r.ttft.v.push_back(pp.ttft_seconds);
      for (size_t k = 0; k < tg.size(); ++k) r.decode[k].v.push_back(tg[k]);
    }
  }

  ojson j = {{"read_bandwidth_gb_s", bandwidth / 1e9}, {"threads", omp_get_max_threads()},
             {"kernels", kernels().isa}, {"prompt_tokens", f.prompt_tokens}, {"gen_tokens", f.gen_tokens},
             {"reps", f.reps}, {"models", ojson::array()}};
  std::string md = "| model | format | size MB | bits/weight | load s | peak RSS MB | pp" + std::to_string(f.prompt_tokens) +
                   " tok/s | TTFT ms |";
  for (int d : f.depths) md += " tg" + std::to_string(f.gen_tokens) + "@" + std::to_string(d) + " tok/s |";
  md += " roofline |\n|---|---|---|---|---|---|---|---|";
  for (size_t k = 0; k < f.depths.size(); ++k) md += "---|";
  md += "---|\n";
  char buf[512];
  for (const ModelResult& r : results) {
    const double roofline = r.decode[0].median() * r.bytes_per_token / bandwidth;
    ojson m = {{"model", r.dir}, {"format", r.format}, {"file_mb", r.file_mb}, {"bits_per_weight", r.bpw},
               {"load_s", r.load_s.json()}, {"peak_rss_mb", r.peak_mb.json()}, {"prefill_tok_s", r.prefill.json()},
               {"ttft_s", r.ttft.json()}, {"decode", ojson::array()}, {"weight_bytes_per_token", r.bytes_per_token},
               {"roofline_fraction", roofline}};
    for (size_t k = 0; k < f.depths.size(); ++k)
      m["decode"].push_back({{"depth", f.depths[k]}, {"tok_s", r.decode[k].json()}});
    j["models"].push_back(m);
    std::snprintf(buf, sizeof buf, "| %s | %s | %.1f | %.2f | %.2f | %.0f | %.1f (%.1f–%.1f) | %.0f |", r.dir.c_str(),
                  r.format.c_str(), r.file_mb, r.bpw, r.load_s.median(), r.peak_mb.median(), r.prefill.median(),
                  r.prefill.min(), r.prefill.max(), 1e3 * r.ttft.median());
    md += buf;
    for (const Stat& d : r.decode) {
      std::snprintf(buf, sizeof buf, " %.1f (%.1f–%.1f) |", d.median(), d.min(), d.max());
      md += buf;
    }
    std::snprintf(buf, sizeof buf, " %.2f |\n", roofline);
    md += buf;
  }
  std::printf("read bandwidth %.1f GB/s, %d threads, kernels %s, median (min–max) of %d runs\n\n%s", bandwidth / 1e9,
              omp_get_max_threads(), kernels().isa.c_str(), f.reps, md.c_str());
  if (!f.json_path.empty()) std::ofstream(f.json_path) << j.dump(2) << "\n";
  if (!f.markdown_path.empty()) std::ofstream(f.markdown_path) << md;
}
}  // namespace

void add_bench(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "Benchmark models side by side: size, memory, prefill/decode speed, roofline");
  cmd->add_option("-m,--model", f->models, "Model folder (repeat for several)")->required();
  cmd->add_option("--prompt-tokens", f->prompt_tokens, "Prompt length for the prefill test")->capture_default_str();
  cmd->add_option("--gen-tokens", f->gen_tokens, "Tokens per decode test")->capture_default_str();
  cmd->add_option("--depth", f->depths, "Context depths for decode, comma-separated (e.g. 0,512,2048)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--reps", f->reps, "Repetitions (median and min-max are reported)")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--json", f->json_path, "Write the results as JSON");
  cmd->add_option("--markdown", f->markdown_path, "Write the table as Markdown");
  cmd->callback([f] { run_bench(*f); });
}

}  // namespace qlm::cli
