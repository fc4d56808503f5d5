// Calibration pass over a text with the float model.
#include "convert/calibration.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/progress.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace qlm {

std::vector<float> ActivationStats::mean_sq() const {
  std::vector<float> v(sum_sq.size());
  for (size_t c = 0; c < v.size(); ++c) v[c] = static_cast<float>(sum_sq[c] / std::max<int64_t>(count, 1));
  return v;
}

std::map<std::string, ActivationStats> collect_activation_stats(const CalibrationOptions& opt) {
  std::ifstream in(opt.text_path, std::ios::binary);
  if (!in) fail("--calib: cannot open ", opt.text_path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > 16u * static_cast<size_t>(opt.max_tokens)) text.resize(16u * opt.max_tokens);  // enough bytes
  auto tok = Tokenizer::load(opt.model_dir);
  std::vector<int> ids = tok->encode(text, /*allow_special=*/false);
  if (ids.size() > static_cast<size_t>(opt.max_tokens)) ids.resize(opt.max_tokens);
  if (ids.size() < 16) fail("--calib: ", opt.text_path, " has too little text (", ids.size(), " tokens)");

  auto model = Transformer::load(opt.model_dir);
  const ModelConfig& cfg = model->config();
  const int ctx = std::min<int>(opt.ctx, static_cast<int>(ids.size()));
  std::map<std::string, ActivationStats> stats;
  ForwardScratch scratch = model->make_scratch(std::min(ctx, 64));
  scratch.observe_matmul = [&](const WeightMatrix& w, const float* x, int n) {
    ActivationStats& st = stats[w.name];
    const int64_t C = w.cols;
    if (st.cols == 0) {
      st.cols = C;
      st.sum_sq.assign(static_cast<size_t>(C), 0.0);
      if (C <= kMaxGramCols) st.gram.assign(static_cast<size_t>(C * C), 0.0);
    }
    st.count += n;
    for (int t = 0; t < n; ++t)
      for (int64_t c = 0; c < C; ++c) st.sum_sq[c] += static_cast<double>(x[t * C + c]) * x[t * C + c];
    if (st.gram.empty()) return;
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t i = 0; i < C; ++i) {  // upper triangle, mirrored below at the end
      double* row = &st.gram[i * C];
      for (int t = 0; t < n; ++t) {
        const float* xt = x + t * C;
        const double xi = xt[i];
        if (xi == 0.0) continue;
        for (int64_t j = i; j < C; ++j) row[j] += xi * xt[j];
      }
    }
  };
  KVCache cache(cfg, ctx);
  std::vector<float> logits(static_cast<size_t>(scratch.max_tokens) * cfg.vocab_size);
  const int windows = static_cast<int>(ids.size()) / ctx;
  Progress progress("calibrate", windows, 1, "windows");
  for (int w = 0; w < windows; ++w) {
    cache.clear();
    for (int start = 0; start < ctx; start += scratch.max_tokens) {
      const int len = std::min(scratch.max_tokens, ctx - start);
      model->forward(cache, scratch, std::span<const int>(ids).subspan(static_cast<size_t>(w) * ctx + start, len),
                     logits.data(), /*all_logits=*/true);
    }
    if (opt.progress) progress.update(w + 1);
  }
  if (opt.progress) progress.finish();
  for (auto& [name, st] : stats)
    for (int64_t i = 0; i < st.cols && !st.gram.empty(); ++i)
      for (int64_t j = 0; j < i; ++j) st.gram[i * st.cols + j] = st.gram[j * st.cols + i];
  return stats;
}

}  // namespace qlm
