// Deciding what each tensor becomes.
#include "convert/plan.h"

#include <algorithm>
#include <cstdlib>

#include "base/error.h"

namespace qlm {

namespace {


// Linear layers and embeddings are quantizable (MLX quantizes every module with to_quantized).
bool is_quantizable_module(const std::string& module) {
  for (const char* leaf : {"embed_tokens", "lm_head", "q_proj", "k_proj", "v_proj", "o_proj",
                           "gate_proj", "up_proj", "down_proj"})
    if (module == leaf || module.ends_with(std::string(".") + leaf)) return true;
  return false;
}

int layer_index(const std::string& module) {
  const std::string key = "layers.";
  size_t p = module.find(key);
  if (p == std::string::npos) return -1;
  return std::atoi(module.c_str() + p + key.size());
}

}  // namespace

int recipe_bits(const std::string& recipe, const std::string& module, int num_layers, int default_bits) {
  if (recipe.empty()) return default_bits;
  int low = 0, high = 0;
  if (std::sscanf(recipe.c_str(), "mixed_%d_%d", &low, &high) != 2 || low < 2 || high > 8 || low >= high)
    fail("--recipe: unknown recipe '", recipe, "' (expected mixed_<low>_<high>, e.g. mixed_4_6)");
  if (module.ends_with("lm_head")) return high;
  if (module.ends_with("v_proj") || module.ends_with("down_proj")) {
    const int l = layer_index(module);
    const bool more = l < num_layers / 8 || l >= 7 * num_layers / 8 || (l - num_layers / 8) % 3 == 2;
    return more ? high : low;
  }
  return low;
}

ConvertPlan make_plan(const ModelConfig& cfg, const TensorStore& store, const ConvertOptions& opt) {
  ConvertPlan plan;
  if (opt.float_dtype) plan.float_dtype = *opt.float_dtype;
  else if (cfg.dtype == "bfloat16") plan.float_dtype = DType::BF16;
  // F16 keeps 3 more mantissa bits than BF16 for F32/F16 sources (q8 KL to an F32 model: 1.7e-4
  // vs 2.5e-4 on stories260K); values beyond F16's range are reported at write time.
  else plan.float_dtype = DType::F16;

  for (const auto& [name, view] : store.all()) {
    if (name.ends_with("rotary_emb.inv_freq")) continue;           // recomputed, as MLX drops it
    if (cfg.tie_word_embeddings && name == "lm_head.weight") continue;  // tied: the embedding serves
    if (name.ends_with(".scales") || name.ends_with(".biases"))
      fail(*view->file, ": tensor '", name, "' looks already quantized; convert takes a float checkpoint");
    plan.total_parameters += static_cast<uint64_t>(view->numel());
    PlannedTensor t;
    t.source = view;
    const bool is_weight = name.ends_with(".weight") && view->shape.size() == 2;
    t.module = is_weight ? name.substr(0, name.size() - 7) : "";
    if (opt.bits > 0 && is_weight && is_quantizable_module(t.module)) {
      if (!is_float_dtype(view->dtype))
        fail(*view->file, ": tensor '", name, "' has dtype ", dtype_name(view->dtype), ", expected a float type");
      const int bits = recipe_bits(opt.recipe, t.module, cfg.num_layers, opt.bits);
      const int64_t rows = view->shape[0], cols = view->shape[1];
      if (cols % opt.group_size == 0) {
        t.quantize = true;
        t.spec = QuantSpec{.bits = bits, .group_size = opt.group_size};
        if (bits != opt.bits) plan.overrides[t.module] = t.spec;
        t.outputs = {{t.module + ".biases", plan.float_dtype, {rows, cols / opt.group_size}},
                     {t.module + ".scales", plan.float_dtype, {rows, cols / opt.group_size}},
                     {t.module + ".weight", DType::U32, {rows, cols * bits / 32}}};
      }
    }
    if (!t.quantize) {
      const DType dt = is_float_dtype(view->dtype) ? plan.float_dtype : view->dtype;
      t.outputs = {{name, dt, view->shape}};
    }
    plan.tensors.push_back(std::move(t));
  }
  if (plan.tensors.empty()) fail(store.dir(), ": no tensors to convert");

  // Shards of at most 5 GiB, filled in name order (a tensor never straddles two files).
  std::vector<TensorSpec> current;
  uint64_t current_bytes = 0;
  for (const PlannedTensor& t : plan.tensors) {
    for (const TensorSpec& s : t.outputs) {
      if (!current.empty() && current_bytes + s.nbytes() > kMaxShardBytes) {
        plan.shards.push_back(std::move(current));
        current.clear();
        current_bytes = 0;
      }
      current.push_back(s);
      current_bytes += s.nbytes();
      plan.total_bytes += s.nbytes();
    }
  }
  plan.shards.push_back(std::move(current));
  return plan;
}

}  // namespace qlm
