// bench's quality pass: models of the same shape form a group whose highest-precision member
// (most bits per weight) is the base; the others get perplexity, KL and top-1 agreement against it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qlm::cli {

struct QualityOptions {
  std::string text_path;  // "" = the built-in passage
  int ctx = 256;          // window length in tokens
  int max_windows = 0;    // 0 = all the text gives (random ids: 2 windows)
};

struct QualityResult {
  bool measured = false;   // false: no other model of the same shape was given
  bool is_base = false;
  std::string base_dir;
  std::string ids_source;  // "tokenizer" (the text) or "random" (base has no tokenizer)
  int ctx = 0, windows = 0;
  int64_t tokens_scored = 0;
  double ppl = 0, base_ppl = 0, kl_mean = 0, kl_p99 = 0, top1_agreement = 1;
};

struct QualityInput {
  std::string dir;
  double bits_per_weight = 0;
};

// One result per input, in order. Loads at most two models at a time (the base and one other).
std::vector<QualityResult> measure_bench_quality(const std::vector<QualityInput>& models, const QualityOptions& opt);

// The default evaluation text: a public-domain passage (see bench_text.cpp).
const char* builtin_quality_text();

}  // namespace qlm::cli
