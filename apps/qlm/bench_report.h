// bench's results and their renderings: the terminal/Markdown table, JSON, and the SVG chart.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_quality.h"

namespace qlm::cli {

// Repeated measurements of one quantity; reported as median and min-max.
struct Stat {
  std::vector<double> v;
  double median() const;
  double min() const;
  double max() const;
  nlohmann::ordered_json json() const;
};

struct ModelResult {
  std::string dir, label, format;  // label: the folder's last component, for the chart
  double file_mb = 0, bpw = 0, bytes_per_token = 0;
  Stat load_s, peak_mb, prefill, ttft;
  std::vector<Stat> decode;   // batch 1, per depth
  std::vector<Stat> batched;  // aggregate tok/s per batch size > 1, at the first depth
  QualityResult quality;
};

struct BenchRun {
  // Bytes/s: the median of the streaming-read tests run before every repetition, as decode is
  // the median of its runs. Not the highest: on a shared VM single tests have read ~1.8x the
  // rate that runs before and after them, and decode, measured in the same minutes, got 42-44
  // GB/s (2026-12-07, Zen 5: tests 42-79 GB/s, roofline 0.50 by the highest, 0.90 by the median).
  double bandwidth = 0;
  Stat bandwidth_samples;        // every test's result, bytes/s
  double last_level_cache = 0;   // bytes; weights that fit partly are read faster than DRAM
  int threads = 0;
  std::string isa;
  std::string kv_cache_dtype = "f32";
  int prompt_tokens = 0, gen_tokens = 0, reps = 0;
  std::vector<int> depths;
  std::vector<int> batches;  // batch sizes > 1 (batch 1 is `decode`)
  std::vector<ModelResult> models;
  std::string note;  // printed under the table (e.g. "weights are random")
};

// Batch-1 decode at the first depth: tok/s x weight bytes per token / read bandwidth. Meaningful
// only for models past the caches; a cache-resident tiny model can exceed 1.
double roofline_fraction(const ModelResult& m, double bandwidth);

nlohmann::ordered_json bench_json(const BenchRun& run);
std::string bench_markdown(const BenchRun& run);  // the table, also printed on the terminal
std::string bench_svg(const BenchRun& run);

}  // namespace qlm::cli
