// Replacing a loaded model's weights in place (the RL loop's weight sync): tensors under Hugging
// Face names are stored in each module's own format (re-quantized with its bits/group size, or
// converted to its float type). New data lives in ModelWeights::owned; the mapping is never
// written.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "model/transformer.h"
#include "quant/quantizer.h"

namespace qlm {

// One incoming tensor: contiguous row-major data of dtype F32, F16 or BF16 (not owned).
struct TensorUpdate {
  std::string name;  // "model.layers.0.mlp.up_proj.weight", "model.norm.weight", ...
  std::vector<int64_t> shape;
  DType dtype = DType::F32;
  const void* data = nullptr;
};

// The shape the model has for `name`; throws Error when the model has no such tensor.
std::vector<int64_t> expected_shape(const Transformer& model, const std::string& name);

// Checks every update (known name, expected shape, float dtype, finite values) and throws Error
// naming the first bad tensor. Changes nothing.
void check_updates(const Transformer& model, std::span<const TensorUpdate> updates);

// check_updates, then applies them one tensor at a time (peak extra memory: the new matrix).
// Matrices are quantized with `method` (rtn is bit-exact with `qlm convert --method rtn`);
// norms and biases are rounded to the dtype they were loaded from, as convert stores them.
void update_weights(Transformer& model, std::span<const TensorUpdate> updates, QuantMethod method);

// Replaces the matrix `hf_name` ("<module>.weight") with rows [rows][cols] of src_dtype (F32,
// F16 or BF16), in its own format, converting row by row in parallel; a tied embedding and LM
// head change together. Throws Error for an unknown name.
void replace_matrix(ModelWeights& w, const ModelConfig& cfg, const std::string& hf_name, DType src_dtype,
                    const void* src, QuantMethod method);

// Overwrites a norm weight or projection bias with data[n], rounded to `round_to`.
void set_vector(ModelWeights& w, const std::string& hf_name, const float* data, DType round_to);

}  // namespace qlm
