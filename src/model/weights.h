// The model's weights as views into the mapped files, checked against ModelConfig once at
// load. Names are Hugging Face's; a module is quantized iff "<path>.scales" exists (MLX rule).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/model_config.h"
#include "io/tensor_store.h"
#include "quant/weight_matrix.h"

namespace qlm {

struct LayerWeights {
  std::vector<float> attn_norm;           // [hidden]
  WeightMatrix q_proj, k_proj, v_proj;    // [q_dim | kv_dim | kv_dim][hidden]
  std::vector<float> q_bias, k_bias, v_bias;  // [q_dim | kv_dim | kv_dim], empty without bias
  WeightMatrix o_proj;                    // [hidden][q_dim]
  std::vector<float> mlp_norm;            // [hidden]
  WeightMatrix gate_proj, up_proj;        // [intermediate][hidden]
  WeightMatrix down_proj;                 // [hidden][intermediate]
};

struct ModelWeights {
  WeightMatrix embed;  // [vocab][hidden]; embedding rows are dequantized on lookup
  std::vector<LayerWeights> layers;
  std::vector<float> final_norm;  // [hidden]
  WeightMatrix lm_head;           // [vocab][hidden]; the embedding itself when tied
  // Storage for matrices replaced after load (weight_update.h); the rest point into the mapping.
  std::vector<std::unique_ptr<std::vector<uint8_t>>> owned;

  // Bytes of weights one decode step reads (all matrices once, embedding row aside).
  size_t bytes_per_token() const;
};

// Builds the views; throws Error naming the tensor for a missing tensor or a wrong shape/dtype.
ModelWeights load_weights(const ModelConfig& cfg, const TensorStore& store);

// Regroups the scales and biases of every affine matrix the kernels multiply by (the layers'
// and the LM head, which may be the embedding) for the int8 kernels (blocked_params.h), and
// drops the mapped originals from memory, except the embedding's (its rows are looked up).
// With `interleave`, also gives those matrices the interleaved copy of their codes
// (interleaved_codes.h) and drops the mapped codes (an embedding lookup reads them again).
// The kernels' results do not change; a 16-row block's set-up becomes a copy.
void prepare_for_kernels(ModelWeights& w, bool interleave);

// One matrix by module path: affine when "<path>.scales" exists, float otherwise.
WeightMatrix load_matrix(const TensorStore& store, const ModelConfig& cfg,
                         const std::string& module_path, int64_t rows, int64_t cols);

}  // namespace qlm
