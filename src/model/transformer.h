// The decoder-only transformer forward pass shared by Qwen2 and Llama: embedding, then per
// layer RMSNorm -> attention (GQA, RoPE rotate-half, optional q/k/v bias) -> residual ->
// RMSNorm -> SwiGLU MLP -> residual; final RMSNorm and LM head. Prefill of a whole prompt
// and single-token decode run through the same code.
#pragma once

#include <atomic>
#include <cstdint>
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

// One row of a batched forward: a token of some sequence at a position of that sequence's
// cache. Rows of several sequences mix freely (continuous batching); each row attends to its
// own cache up to its position, so a sequence's prefill rows must come in position order.
struct BatchRow {
  KVCache* cache = nullptr;
  int pos = 0;
  int token = 0;
};

// Scratch buffers for up to `max_tokens` rows per forward call; reused across calls.
struct ForwardScratch {
  std::vector<BatchRow> rows;   // the batch of the next forward_batch call
  std::vector<int> logit_rows;  // indices into rows whose logits are wanted, in output order
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
  // For weight_update.h only: callers must not run the model while they change its weights.
  ModelWeights& mutable_weights() { return weights_; }
  // Counts a change of the weights, so that what was computed with the old ones (the engine's
  // prefix cache) is dropped; update_weights calls it.
  void mark_weights_changed() { weights_version_.fetch_add(1); }
  uint64_t weights_version() const { return weights_version_.load(); }
  const TensorStore& store() const { return *store_; }

  ForwardScratch make_scratch(int max_tokens) const;

  // The element type of the KV caches the runtime makes for this model (--kv-cache-dtype).
  KvDtype kv_dtype() const { return kv_dtype_; }
  void set_kv_dtype(KvDtype d) { kv_dtype_ = d; }

  // The batched forward: scratch.rows (any mix of sequences), writing the K/V of each row
  // into its cache at its position. logits: [scratch.logit_rows.size()][vocab].
  void forward_batch(ForwardScratch& scratch, float* logits) const;

  // Runs `tokens` at positions cache.size() ... and appends their K/V to the cache.
  // logits: [tokens.size()][vocab] when all_logits, else [vocab] for the last token only.
  // tokens.size() must be <= scratch.max_tokens; the cache must have room.
  void forward(KVCache& cache, ForwardScratch& scratch, std::span<const int> tokens,
               float* logits, bool all_logits) const;

 private:
  Transformer(ModelConfig cfg, std::unique_ptr<TensorStore> store);
  void attention(ForwardScratch& s, int layer) const;

  ModelConfig cfg_;
  std::unique_ptr<TensorStore> store_;  // owns the mappings the weights point into
  ModelWeights weights_;
  KvDtype kv_dtype_ = default_kv_dtype();
  std::atomic<uint64_t> weights_version_{0};
};

}  // namespace qlm
