// Renders a BenchRun: one table for terminal and Markdown, a JSON document with every number,
// and the chart panels (decode, prefill, peak memory, quality) handed to the SVG writer.
#include "bench_report.h"

#include <algorithm>
#include <cstdio>

#include "bench_svg.h"

namespace qlm::cli {

using ojson = nlohmann::ordered_json;

double Stat::median() const {
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  if (s.empty()) return 0;
  return s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
}
double Stat::min() const { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
double Stat::max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
ojson Stat::json() const { return {{"median", median()}, {"min", min()}, {"max", max()}}; }

double roofline_fraction(const ModelResult& m, double bandwidth) {
  return m.decode.empty() ? 0 : m.decode[0].median() * m.bytes_per_token / bandwidth;
}

namespace {
std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[128];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

std::string quality_cells(const QualityResult& q) {
  if (!q.measured) return " – | – | – | – |";
  if (q.is_base) return fmt(" %.3f | base | base | base |", q.ppl);
  return fmt(" %.3f | %.5f | %.5f |", q.ppl, q.kl_mean, q.kl_p99) + fmt(" %.1f%% |", 100 * q.top1_agreement);
}

ojson quality_json(const QualityResult& q) {
  if (!q.measured) return nullptr;
  return {{"base", q.base_dir}, {"is_base", q.is_base}, {"ids", q.ids_source}, {"ctx", q.ctx},
          {"windows", q.windows}, {"tokens_scored", q.tokens_scored}, {"ppl", q.ppl}, {"base_ppl", q.base_ppl},
          {"kl_mean", q.kl_mean}, {"kl_p99", q.kl_p99}, {"top1_agreement", q.top1_agreement}};
}
}  // namespace

ojson bench_json(const BenchRun& run) {
  ojson samples = ojson::array();
  for (double b : run.bandwidth_samples.v) samples.push_back(b / 1e9);
  ojson j = {{"read_bandwidth_gb_s", run.bandwidth / 1e9}, {"read_bandwidth_samples_gb_s", samples},
             {"last_level_cache_mb", run.last_level_cache / 1e6}, {"threads", run.threads}, {"kernels", run.isa},
             {"kv_cache_dtype", run.kv_cache_dtype}, {"prompt_tokens", run.prompt_tokens},
             {"gen_tokens", run.gen_tokens}, {"reps", run.reps}, {"note", run.note}, {"models", ojson::array()}};
  for (const ModelResult& r : run.models) {
    ojson m = {{"model", r.dir}, {"label", r.label}, {"format", r.format}, {"file_mb", r.file_mb},
               {"bits_per_weight", r.bpw}, {"load_s", r.load_s.json()}, {"peak_rss_mb", r.peak_mb.json()},
               {"prefill_tok_s", r.prefill.json()}, {"ttft_s", r.ttft.json()}, {"decode", ojson::array()},
               {"weight_bytes_per_token", r.bytes_per_token},
               {"roofline_fraction", roofline_fraction(r, run.bandwidth)}, {"quality", quality_json(r.quality)}};
    for (size_t k = 0; k < run.depths.size(); ++k)
      m["decode"].push_back({{"depth", run.depths[k]}, {"tok_s", r.decode[k].json()}});
    m["batched_decode"] = ojson::array();
    for (size_t k = 0; k < run.batches.size(); ++k)
      m["batched_decode"].push_back({{"batch", run.batches[k]},
                                     {"depth", run.depths.empty() ? 0 : run.depths[0]},
                                     {"aggregate_tok_s", r.batched[k].json()}});
    j["models"].push_back(m);
  }
  return j;
}

std::string bench_markdown(const BenchRun& run) {
  std::string md = "| model | format | size MB | bits/weight | load s | peak RSS MB | pp" +
                   std::to_string(run.prompt_tokens) + " tok/s | TTFT ms |";
  for (int d : run.depths) md += " tg" + std::to_string(run.gen_tokens) + "@" + std::to_string(d) + " tok/s |";
  for (int b : run.batches) md += " tg" + std::to_string(run.gen_tokens) + " ×" + std::to_string(b) + " tok/s |";
  md += " roofline | PPL | mean KL | p99 KL | top-1 |\n|---|---|---|---|---|---|---|---|";
  for (size_t k = 0; k < run.depths.size() + run.batches.size(); ++k) md += "---|";
  md += "---|---|---|---|---|\n";
  for (const ModelResult& r : run.models) {
    md += "| " + r.dir + " | " + r.format + " |" + fmt(" %.1f | %.2f |", r.file_mb, r.bpw) +
          fmt(" %.2f | %.0f |", r.load_s.median(), r.peak_mb.median()) +
          fmt(" %.1f (%.1f–%.1f) |", r.prefill.median(), r.prefill.min(), r.prefill.max()) +
          fmt(" %.0f |", 1e3 * r.ttft.median());
    for (const Stat& d : r.decode) md += fmt(" %.1f (%.1f–%.1f) |", d.median(), d.min(), d.max());
    for (const Stat& d : r.batched) md += fmt(" %.1f (%.1f–%.1f) |", d.median(), d.min(), d.max());
    md += fmt(" %.2f |", roofline_fraction(r, run.bandwidth)) + quality_cells(r.quality) + "\n";
  }
  for (const ModelResult& r : run.models)
    if (r.quality.measured && r.quality.ids_source == "random") {
      md += "\nQuality was measured on seeded random token ids (the base model has no tokenizer).\n";
      break;
    }
  for (const ModelResult& r : run.models)
    if (run.last_level_cache > 0 && r.bytes_per_token < 2 * run.last_level_cache)
      md += "\nroofline of " + r.label + fmt(": %.0f MB of weights per token, under twice the %.0f MB", r.bytes_per_token / 1e6,
                                            run.last_level_cache / 1e6) +
            " last-level cache: part of each token's reads can come from the cache, and the fraction may exceed 1.\n";
  if (!run.note.empty()) md += "\n" + run.note + "\n";
  return md;
}

std::string bench_svg(const BenchRun& run) {
  ChartPanel decode{.title = "Decode, batch 1, context " + std::to_string(run.depths.empty() ? 0 : run.depths[0]),
                    .axis_label = "tokens/s (median; whiskers: min–max of " + std::to_string(run.reps) + " runs)"};
  ChartPanel prefill{.title = "Prefill of " + std::to_string(run.prompt_tokens) + " tokens",
                     .axis_label = decode.axis_label};
  ChartPanel memory{.title = "Peak resident memory", .axis_label = "MB", .value_format = "%.0f"};
  ChartPanel quality{.title = "Quality: mean KL divergence from the base (lower is better)",
                     .axis_label = "mean KL (nats/token)", .value_format = "%.4f"};
  bool any_quality = false;
  for (const ModelResult& r : run.models) {
    const std::string label = r.label + " (" + r.format + ")";
    const Stat& d = r.decode.empty() ? Stat{} : r.decode[0];
    decode.bars.push_back({.label = label, .value = d.median(), .lo = d.min(), .hi = d.max(),
                           .note = fmt(" (%.0f%% of roofline)", 100 * roofline_fraction(r, run.bandwidth))});
    prefill.bars.push_back({.label = label, .value = r.prefill.median(), .lo = r.prefill.min(), .hi = r.prefill.max()});
    memory.bars.push_back({.label = label, .value = r.peak_mb.median(), .note = fmt(" (file %.1f MB)", r.file_mb)});
    const QualityResult& q = r.quality;
    if (!q.measured) {
      quality.bars.push_back({.label = label, .missing = true, .note = "no other model of this shape"});
    } else if (q.is_base) {
      quality.bars.push_back({.label = label, .missing = true, .note = fmt("base (PPL %.3f)", q.ppl)});
    } else {
      any_quality = true;
      quality.bars.push_back({.label = label, .value = q.kl_mean,
                              .note = fmt(" (PPL %.3f, top-1 %.1f%%)", q.ppl, 100 * q.top1_agreement)});
    }
  }
  if (any_quality && run.models.size() > 0) {
    for (const ModelResult& r : run.models)
      if (r.quality.measured && r.quality.ids_source == "random") {
        quality.title += " — on random token ids";
        break;
      }
  }
  std::vector<ChartPanel> panels{decode};
  if (!run.batches.empty()) {
    const int b = run.batches.back();
    ChartPanel batched{.title = "Decode, " + std::to_string(b) + " sequences in lock-step (aggregate)",
                       .axis_label = decode.axis_label};
    for (const ModelResult& r : run.models) {
      const Stat& d = r.batched.back();
      batched.bars.push_back({.label = r.label + " (" + r.format + ")", .value = d.median(), .lo = d.min(), .hi = d.max()});
    }
    panels.push_back(batched);
  }
  panels.push_back(prefill);
  panels.push_back(memory);
  if (any_quality) panels.push_back(quality);
  const std::string subtitle = fmt("read bandwidth %.1f GB/s, %.0f threads, ", run.bandwidth / 1e9, run.threads) +
                               "kernels " + run.isa + ", KV cache " + run.kv_cache_dtype +
                               (run.note.empty() ? "" : "\n" + run.note);
  return render_bench_svg("qlm bench", subtitle, panels);
}

}  // namespace qlm::cli
