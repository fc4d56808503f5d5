// The conversion plan: for every source tensor, what the output holds (quantized module with
// weight/scales/biases, or a float tensor), and how output tensors are split into shards.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "io/model_config.h"
#include "io/safetensors_writer.h"
#include "io/tensor_store.h"

namespace qlm {

struct PlannedTensor {
  const TensorView* source = nullptr;
  std::string module;  // module path ("model.layers.0.mlp.up_proj") for quantized tensors
  bool quantize = false;
  QuantSpec spec;                // when quantize
  std::vector<TensorSpec> outputs;  // 1 (float) or 3 (weight, scales, biases)
};

struct ConvertPlan {
  std::vector<PlannedTensor> tensors;
  // Per-module overrides that differ from the default spec (mixed recipes), and modules
  // that MLX's rule leaves unquantized (cols % group_size != 0): written to config.json.
  std::map<std::string, QuantSpec> overrides;
  std::vector<std::vector<TensorSpec>> shards;  // output specs per file
  DType float_dtype = DType::BF16;
  uint64_t total_bytes = 0;
  uint64_t total_parameters = 0;  // as MLX counts them: of the float model
};

ConvertPlan make_plan(const ModelConfig& cfg, const TensorStore& store, const ConvertOptions& opt);

// mlx-lm's "mixed_<low>_<high>" recipe: more bits for v_proj and down_proj in the first and last
// eighth of layers and every third layer between, and for lm_head.
int recipe_bits(const std::string& recipe, const std::string& module, int num_layers, int default_bits);

constexpr uint64_t kMaxShardBytes = 5ull << 30;  // as mlx-lm: 5 GiB per file

}  // namespace qlm
