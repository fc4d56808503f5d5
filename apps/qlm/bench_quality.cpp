// Groups bench's models by shape, picks each group's base, and runs the perplexity engine on the
// others against it; falls back to seeded random ids when the base folder has no tokenizer.
#include "bench_quality.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>

#include "base/error.h"
#include "io/model_config.h"
#include "runtime/perplexity.h"
#include "text_input.h"

namespace qlm::cli {

namespace {
// Models are comparable when their logits mean the same thing: same architecture and every
// dimension equal (the quantization format may differ).
std::string shape_key(const ModelConfig& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s h%d i%d l%d a%d kv%d hd%d v%d t%d", c.model_type.c_str(), c.hidden_size,
                c.intermediate_size, c.num_layers, c.num_heads, c.num_kv_heads, c.head_dim, c.vocab_size,
                c.tie_word_embeddings ? 1 : 0);
  return buf;
}

bool has_tokenizer(const std::string& dir) {
  namespace fs = std::filesystem;
  return fs::exists(fs::path(dir) / "tokenizer.json") || fs::exists(fs::path(dir) / "vocab.json");
}

// The evaluation ids for a group: the text through the base's tokenizer, or, without one,
// uniform random ids (fixed seed, so every run and every model sees the same sequence).
std::vector<int> quality_ids(const std::string& base_dir, int vocab, const QualityOptions& opt, std::string* source) {
  if (has_tokenizer(base_dir)) {
    auto tok = load_tokenizer_for(base_dir, "bench --quality-text");
    const std::string text = opt.text_path.empty() ? builtin_quality_text() : read_text_file(opt.text_path, "--quality-text");
    *source = "tokenizer";
    return encode_text(*tok, text, /*allow_special=*/false);
  }
  *source = "random";
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int> pick(0, vocab - 1);
  const int n = opt.ctx * (opt.max_windows > 0 ? opt.max_windows : 2);
  std::vector<int> ids(n);
  for (int& id : ids) id = pick(rng);
  return ids;
}
}  // namespace

std::vector<QualityResult> measure_bench_quality(const std::vector<QualityInput>& models, const QualityOptions& opt) {
  std::vector<QualityResult> out(models.size());
  std::map<std::string, std::vector<size_t>> groups;  // shape -> model indices, in command-line order
  std::vector<int> vocab(models.size());
  for (size_t i = 0; i < models.size(); ++i) {
    const ModelConfig cfg = load_model_config(models[i].dir);
    vocab[i] = cfg.vocab_size;
    groups[shape_key(cfg)].push_back(i);
  }
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    size_t base = members[0];  // most bits per weight; the first given wins a tie
    for (size_t i : members)
      if (models[i].bits_per_weight > models[base].bits_per_weight) base = i;
    std::string source;
    std::vector<int> ids = quality_ids(models[base].dir, vocab[base], opt, &source);
    PerplexityOptions popt{.ctx = opt.ctx, .max_windows = opt.max_windows};
    if (static_cast<int>(ids.size()) < popt.ctx) {
      std::fprintf(stderr, "bench: quality text has only %zu tokens; using --quality-ctx %zu\n", ids.size(), ids.size());
      popt.ctx = static_cast<int>(ids.size());
    }
    if (popt.ctx < 2) fail("bench: the quality text gives fewer than 2 tokens");
    auto base_model = Transformer::load(models[base].dir);
    out[base].measured = out[base].is_base = true;
    out[base].base_dir = models[base].dir;
    out[base].ids_source = source;
    for (size_t i : members) {
      if (i == base) continue;
      std::fprintf(stderr, "bench: quality of %s against %s (%s ids, ctx %d)\n", models[i].dir.c_str(),
                   models[base].dir.c_str(), source.c_str(), popt.ctx);
      auto model = Transformer::load(models[i].dir);
      const PerplexityResult r = measure_perplexity(*model, base_model.get(), ids, popt);
      QualityResult& q = out[i];
      q = QualityResult{.measured = true, .base_dir = models[base].dir, .ids_source = source, .ctx = popt.ctx,
                        .windows = r.windows, .tokens_scored = r.tokens_scored, .ppl = r.ppl, .base_ppl = r.base_ppl,
                        .kl_mean = r.kl_mean, .kl_p99 = r.kl_p99, .top1_agreement = r.top1_agreement};
      QualityResult& b = out[base];
      b.ctx = q.ctx, b.windows = q.windows, b.tokens_scored = q.tokens_scored;
      b.ppl = b.base_ppl = r.base_ppl, b.kl_mean = b.kl_p99 = 0, b.top1_agreement = 1;
    }
  }
  return out;
}

}  // namespace qlm::cli
