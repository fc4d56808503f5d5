// The decoder-only transformer forward pass shared by Qwen2 and Llama: embedding, then per
// layer RMSNorm -> attention (GQA, RoPE rotate-half, optional q/k/v bias) -> residual ->
// RMSNorm -> SwiGLU MLP -> residual; final RMSNorm and LM head. Prefill of a whole prompt
// and single-token decode run through the same code.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/model_config.h"
#include "io/tensor_store.h"
#include "model/kv_cache.h"
#include "model/weights.h"

namespace qlm {

// Scratch buffers for up to `max_tokens` tokens per forward call; reused across calls.
struct ForwardScratch {
  int max_tokens = 0;
  std::vector<float> x, xn, q, k, v, att, proj, gate, up;  // [max_tokens][width]
  std::vector<float> rope_cos, rope_sin;                    // [max_tokens][head_dim / 2]
  // Sees each matmul's input x [n_rows][w.cols] before it runs (calibration statistics).
  std::function<void(const WeightMatrix& w, const float* x, int n_rows)> observe_matmul;
};

class Transformer {
 public:
  // Loads config, tensors and weights from a model folder (throws Error on any problem).
  static std::unique_ptr<Transformer> load(const std::string& dir);

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return weights_; }
  const TensorStore& store() const { return *store_; }

  ForwardScratch make_scratch(int max_tokens) const;

  // Runs `tokens` at positions cache.size() ... and appends their K/V to the cache.
  // logits: [tokens.size()][vocab] when all_logits, else [vocab] for the last token only.
  // tokens.size() must be <= scratch.max_tokens; the cache must have room.
  void forward(KVCache& cache, ForwardScratch& scratch, std::span<const int> tokens,
               float* logits, bool all_logits) const;

 private:
  Transformer(ModelConfig cfg, std::unique_ptr<TensorStore> store);
  void attention(KVCache& cache, ForwardScratch& s, int layer, int n_tokens, int pos0) const;

  ModelConfig cfg_;
  std::unique_ptr<TensorStore> store_;  // owns the mappings the weights point into
  ModelWeights weights_;
};

}  // namespace qlm
