// The quality meter: perplexity over non-overlapping windows and, against a base model, the
// statistics llama.cpp's KL-divergence mode reports (mean and 99th-percentile KL, top-1
// agreement, mean |delta p| of the observed token), since perplexity alone hides damage.
#pragma once

#include <functional>
#include <span>

#include "model/transformer.h"

namespace qlm {

struct PerplexityOptions {
  int ctx = 512;          // window length in tokens; the first token of a window is context only
  int max_windows = 0;    // 0 = all
  int chunk = 64;         // tokens per forward call (bounds the [chunk][vocab] logits buffers)
};

struct PerplexityResult {
  int windows = 0;
  int64_t tokens_scored = 0;
  double mean_nll = 0, ppl = 0;
  bool has_base = false;
  double base_ppl = 0;
  double kl_mean = 0, kl_p99 = 0, kl_max = 0;
  double top1_agreement = 0;  // fraction of positions where both models' argmax agree
  double mean_abs_dp = 0;     // mean |p_model(next) - p_base(next)|
};

// base may be null. on_window(done, total) reports progress.
PerplexityResult measure_perplexity(const Transformer& model, const Transformer* base,
                                    std::span<const int> ids, const PerplexityOptions& opt,
                                    const std::function<void(int, int)>& on_window = {});

}  // namespace qlm
