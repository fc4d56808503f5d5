// config.json (+ generation_config.json) -> ModelConfig. Architecture is data: the forward
// pass branches on these fields, never on model names. Accepts the transformers 4.x schema
// (torch_dtype, rope_theta) and the 5.x schema (dtype, rope_parameters.rope_theta).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qlm {

// One affine quantization setting (MLX layout: w = scale * q + bias per group of inputs).
struct QuantSpec {
  int bits = 4;
  int group_size = 64;
  std::string mode = "affine";
};

// config.json "quantization": defaults plus per-module overrides keyed by module path
// ("model.layers.0.self_attn.v_proj"); an override of nullopt means "not quantized".
struct QuantizationConfig {
  QuantSpec defaults;
  std::map<std::string, std::optional<QuantSpec>> overrides;
};

struct ModelConfig {
  std::string architecture;  // "Qwen2ForCausalLM" or "LlamaForCausalLM"
  std::string model_type;    // "qwen2", "llama"
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;  // config's head_dim, else hidden_size / num_heads
  int vocab_size = 0;
  int max_position_embeddings = 0;
  float rms_norm_eps = 1e-6f;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v projections carry a bias (always for Qwen2)
  std::string dtype;            // torch_dtype / dtype as written ("bfloat16", ...), may be empty
  std::optional<int> bos_token_id;
  std::vector<int> eos_token_ids;  // config.json, then generation_config.json (which wins)
  std::optional<QuantizationConfig> quantization;

  // Sampling defaults from generation_config.json, when present.
  std::optional<float> gen_temperature, gen_top_p, gen_repetition_penalty;
  std::optional<int> gen_top_k;

  int q_dim() const { return num_heads * head_dim; }
  int kv_dim() const { return num_kv_heads * head_dim; }
};

// Limits on config.json's shape fields (untrusted input; real models are far inside them).
constexpr int kMaxModelWidth = 1 << 20;      // hidden_size, intermediate_size
constexpr int kMaxModelLayers = 4096;
constexpr int kMaxModelHeads = 4096;
constexpr int kMaxModelHeadDim = 4096;
constexpr int kMaxModelVocab = 1 << 22;      // as the tokenizer's limit
constexpr int kMaxModelContext = 1 << 24;    // max_position_embeddings

// Reads <dir>/config.json and, if present, <dir>/generation_config.json.
ModelConfig load_model_config(const std::string& dir);

// Parses one config.json text; `source` names it in errors.
ModelConfig parse_model_config(const std::string& json_text, const std::string& source);

// Merges generation_config.json text into cfg (EOS ids, sampling defaults).
void apply_generation_config(ModelConfig& cfg, const std::string& json_text,
                             const std::string& source);

}  // namespace qlm
