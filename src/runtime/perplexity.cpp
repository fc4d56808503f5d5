// Perplexity and KL statistics; both models run in lock-step over the same windows.
#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"
#include "runtime/greedy.h"

namespace qlm {

namespace {
// log-softmax of logits[n] into out[n] (double).
void log_softmax(const float* logits, int n, std::vector<double>& out) {
  float mx = logits[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  const double lse = mx + std::log(sum);
  out.resize(n);
  for (int i = 0; i < n; ++i) out[i] = logits[i] - lse;
}
}  // namespace

PerplexityResult measure_perplexity(const Transformer& model, const Transformer* base,
                                    std::span<const int> ids, const PerplexityOptions& opt,
                                    const std::function<void(int, int)>& on_window) {
  const ModelConfig& cfg = model.config();
  const int V = cfg.vocab_size;
  if (base && base->config().vocab_size != V)
    fail("--base: vocabulary size ", base->config().vocab_size, " differs from the model's ", V);
  if (opt.ctx < 2) fail("--ctx: must be at least 2");
  int n_windows = static_cast<int>(ids.size()) / opt.ctx;
  if (n_windows == 0) fail("the text has ", ids.size(), " tokens, fewer than one window of --ctx ", opt.ctx);
  if (opt.max_windows > 0) n_windows = std::min(n_windows, opt.max_windows);

  const int chunk = std::min(opt.chunk, opt.ctx);
  KVCache cache(cfg, opt.ctx, model.kv_dtype());
  ForwardScratch scratch = model.make_scratch(chunk);
  std::vector<float> logits(static_cast<size_t>(chunk) * V);
  std::unique_ptr<KVCache> base_cache;
  ForwardScratch base_scratch;
  std::vector<float> base_logits;
  if (base) {
    base_cache = std::make_unique<KVCache>(base->config(), opt.ctx, base->kv_dtype());
    base_scratch = base->make_scratch(chunk);
    base_logits.resize(logits.size());
  }

  PerplexityResult r;
  r.has_base = base != nullptr;
  double nll = 0, base_nll = 0, kl_sum = 0, dp_sum = 0;
  int64_t agree = 0;
  std::vector<double> kls, lp, blp;
  for (int w = 0; w < n_windows; ++w) {
    std::span<const int> win = ids.subspan(static_cast<size_t>(w) * opt.ctx, opt.ctx);
    cache.clear();
    if (base) base_cache->clear();
    // Positions 0 .. ctx-2 predict tokens 1 .. ctx-1.
    for (int start = 0; start < opt.ctx - 1; start += chunk) {
      const int len = std::min(chunk, opt.ctx - 1 - start);
      model.forward(cache, scratch, win.subspan(start, len), logits.data(), true);
      if (base) base->forward(*base_cache, base_scratch, win.subspan(start, len), base_logits.data(), true);
      for (int t = 0; t < len; ++t) {
        const int next = win[start + t + 1];
        log_softmax(&logits[static_cast<size_t>(t) * V], V, lp);
        nll -= lp[next];
        if (!base) continue;
        log_softmax(&base_logits[static_cast<size_t>(t) * V], V, blp);
        base_nll -= blp[next];
        double kl = 0;
        for (int i = 0; i < V; ++i) kl += std::exp(blp[i]) * (blp[i] - lp[i]);
        kl = std::max(kl, 0.0);
        kl_sum += kl;
        kls.push_back(kl);
        dp_sum += std::fabs(std::exp(lp[next]) - std::exp(blp[next]));
        agree += argmax(&logits[static_cast<size_t>(t) * V], V) == argmax(&base_logits[static_cast<size_t>(t) * V], V);
      }
    }
    r.tokens_scored += opt.ctx - 1;
    if (on_window) on_window(w + 1, n_windows);
  }
  r.windows = n_windows;
  r.mean_nll = nll / static_cast<double>(r.tokens_scored);
  r.ppl = std::exp(r.mean_nll);
  if (base) {
    const double n = static_cast<double>(r.tokens_scored);
    r.base_ppl = std::exp(base_nll / n);
    r.kl_mean = kl_sum / n;
    std::sort(kls.begin(), kls.end());
    r.kl_p99 = kls[std::min(kls.size() - 1, static_cast<size_t>(0.99 * static_cast<double>(kls.size())))];
    r.kl_max = kls.back();
    r.top1_agreement = static_cast<double>(agree) / n;
    r.mean_abs_dp = dp_sum / n;
  }
  return r;
}

}  // namespace qlm
