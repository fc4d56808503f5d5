// Weight loading and shape validation.
#include "model/weights.h"

#include <memory>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/mapped_file.h"
#include "quant/kernel_copies.h"

namespace qlm {

namespace {

std::string where(const TensorView& t) { return cat(*t.file, ": tensor '", t.name, "'"); }

void expect_shape(const TensorView& t, std::vector<int64_t> shape) {
  if (t.shape != shape)
    fail(where(t), " has shape ", shape_string(t.shape), ", expected ", shape_string(shape),
         " from config.json");
}

void expect_float(const TensorView& t) {
  if (!is_float_dtype(t.dtype))
    fail(where(t), " has dtype ", dtype_name(t.dtype), ", expected F32, F16 or BF16");
}

std::vector<float> load_vector(const TensorStore& store, const std::string& name, int64_t n) {
  const TensorView& t = store.get(name);
  expect_float(t);
  expect_shape(t, {n});
  std::vector<float> out(static_cast<size_t>(n));
  convert_to_f32(t.dtype, t.data, out.data(), out.size());
  return out;
}

QuantSpec spec_for(const ModelConfig& cfg, const std::string& module_path) {
  if (cfg.quantization) {
    auto it = cfg.quantization->overrides.find(module_path);
    if (it != cfg.quantization->overrides.end() && it->second) return *it->second;
    return cfg.quantization->defaults;
  }
  return QuantSpec{};
}

}  // namespace

WeightMatrix load_matrix(const TensorStore& store, const ModelConfig& cfg,
                         const std::string& module_path, int64_t rows, int64_t cols) {
  WeightMatrix m;
  m.name = module_path;
  m.rows = rows;
  m.cols = cols;
  const TensorView& weight = store.get(module_path + ".weight");
  const TensorView* scales = store.find(module_path + ".scales");
  if (scales == nullptr) {
    expect_float(weight);
    expect_shape(weight, {rows, cols});
    m.format = WeightFormat::Float;
    m.float_dtype = weight.dtype;
    m.data = weight.data;
    return m;
  }
  const TensorView& biases = store.get(module_path + ".biases");
  QuantSpec spec = spec_for(cfg, module_path);
  // MLX-FORMAT b4: infer the group size from the scales' shape when the config's is
  // inconsistent, then the bits from the packed width.
  if (scales->shape.size() == 2 && scales->shape[1] > 0 && cols % scales->shape[1] == 0 &&
      cols / scales->shape[1] != spec.group_size)
    spec.group_size = static_cast<int>(cols / scales->shape[1]);
  if (cols % spec.group_size != 0)
    fail(where(*scales), ": input size ", cols, " is not a multiple of group size ", spec.group_size);
  if (weight.dtype != DType::U32)
    fail(where(weight), " is quantized (has .scales) but has dtype ", dtype_name(weight.dtype),
         ", expected U32");
  if (weight.shape.size() == 2 && weight.shape[1] * 32 % cols == 0 &&
      weight.shape[1] * 32 / cols != spec.bits)
    spec.bits = static_cast<int>(weight.shape[1] * 32 / cols);
  if (spec.bits < 2 || spec.bits > 8 || spec.bits == 7)
    fail(where(weight), ": cannot infer a supported bit width from shape ", shape_string(weight.shape));
  expect_shape(weight, {rows, cols * spec.bits / 32});
  expect_float(*scales);
  expect_shape(*scales, {rows, cols / spec.group_size});
  expect_shape(biases, {rows, cols / spec.group_size});
  if (biases.dtype != scales->dtype)
    fail(where(biases), " has dtype ", dtype_name(biases.dtype), " but the scales are ",
         dtype_name(scales->dtype));
  m.format = WeightFormat::Affine;
  m.bits = spec.bits;
  m.group_size = spec.group_size;
  m.float_dtype = scales->dtype;
  m.data = weight.data;
  m.scales = scales->data;
  m.biases = biases.data;
  return m;
}

ModelWeights load_weights(const ModelConfig& cfg, const TensorStore& store) {
  const int64_t hidden = cfg.hidden_size, inter = cfg.intermediate_size;
  const int64_t q_dim = cfg.q_dim(), kv_dim = cfg.kv_dim();
  ModelWeights w;
  w.embed = load_matrix(store, cfg, "model.embed_tokens", cfg.vocab_size, hidden);
  w.final_norm = load_vector(store, "model.norm.weight", hidden);
  // A checkpoint may carry lm_head even when tied; the config decides, like transformers.
  if (cfg.tie_word_embeddings) w.lm_head = w.embed;
  else w.lm_head = load_matrix(store, cfg, "lm_head", cfg.vocab_size, hidden);

  for (int l = 0; l < cfg.num_layers; ++l) {
    const std::string p = cat("model.layers.", l, ".");
    LayerWeights L;
    L.attn_norm = load_vector(store, p + "input_layernorm.weight", hidden);
    L.q_proj = load_matrix(store, cfg, p + "self_attn.q_proj", q_dim, hidden);
    L.k_proj = load_matrix(store, cfg, p + "self_attn.k_proj", kv_dim, hidden);
    L.v_proj = load_matrix(store, cfg, p + "self_attn.v_proj", kv_dim, hidden);
    if (cfg.attention_bias) {
      L.q_bias = load_vector(store, p + "self_attn.q_proj.bias", q_dim);
      L.k_bias = load_vector(store, p + "self_attn.k_proj.bias", kv_dim);
      L.v_bias = load_vector(store, p + "self_attn.v_proj.bias", kv_dim);
    }
    L.o_proj = load_matrix(store, cfg, p + "self_attn.o_proj", hidden, q_dim);
    L.mlp_norm = load_vector(store, p + "post_attention_layernorm.weight", hidden);
    L.gate_proj = load_matrix(store, cfg, p + "mlp.gate_proj", inter, hidden);
    L.up_proj = load_matrix(store, cfg, p + "mlp.up_proj", inter, hidden);
    L.down_proj = load_matrix(store, cfg, p + "mlp.down_proj", hidden, inter);
    w.layers.push_back(std::move(L));
  }
  return w;
}

void prepare_for_kernels(ModelWeights& w, bool interleave) {
  // The matrices in the order decode reads them, the LM head first (it is the largest, and
  // while it is copied its mapped codes are resident too: last, that raised the 0.5B q4 peak
  // memory by 25 MB). The flag: whether the mapped scales and biases can be dropped. A tied
  // embedding is the LM head and its lookups still read them; an untied one keeps only the
  // file's layout (lookups read the originals).
  std::vector<std::pair<WeightMatrix*, bool>> order;
  const bool tied = w.lm_head.data == w.embed.data;
  order.emplace_back(tied ? &w.embed : &w.lm_head, !tied);
  for (LayerWeights& L : w.layers)
    for (WeightMatrix* m : {&L.q_proj, &L.k_proj, &L.v_proj, &L.o_proj, &L.gate_proj, &L.up_proj, &L.down_proj})
      order.emplace_back(m, true);
  // All the copies in one arena, in that order (page_arena.h). Mapped matrix by matrix, a 0.5B
  // model's got almost no 2 MB pages; in one arena, decode measured (bench/ab.py) 0.5B q4
  // x1.148, q8 x1.063, 7B q4 x1.14.
  size_t bytes = 0;
  for (auto [m, drop] : order) bytes += kernel_copy_bytes(*m, interleave);
  const std::shared_ptr<PageArena> arena = bytes > 0 ? PageArena::create(bytes) : nullptr;
  for (auto [m, drop] : order) {
    if (m->format != WeightFormat::Affine) continue;
    attach_kernel_copies(*m, interleave, arena);
    if (m->interleaved_codes)  // the kernels and embedding lookups read the copy from now on
      drop_mapped_pages(m->data, static_cast<size_t>(m->rows) * m->row_bytes());
    if (!drop) continue;
    const size_t n = static_cast<size_t>(m->rows * m->groups_per_row()) * dtype_size(m->float_dtype);
    drop_mapped_pages(m->scales, n);
    drop_mapped_pages(m->biases, n);
  }
  if (tied) w.lm_head = w.embed;
}

size_t ModelWeights::bytes_per_token() const {
  size_t n = lm_head.total_bytes();
  for (const LayerWeights& L : layers)
    for (const WeightMatrix* m : {&L.q_proj, &L.k_proj, &L.v_proj, &L.o_proj, &L.gate_proj,
                                  &L.up_proj, &L.down_proj})
      n += m->total_bytes();
  return n;
}

}  // namespace qlm
