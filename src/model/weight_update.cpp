// Weight sync: name -> slot resolution, validation of a whole batch, then in-place replacement.
#include "model/weight_update.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "base/error.h"
#include "quant/blocked_params.h"
#include "quant/interleaved_codes.h"

namespace qlm {

namespace {

// Where a Hugging Face tensor name lives in ModelWeights (at most one pointer is set).
struct Slot {
  WeightMatrix* matrix = nullptr;
  std::vector<float>* vector = nullptr;
  bool ignored = false;  // rotary_emb.inv_freq: a buffer some state dicts carry; qlm recomputes it
};


Slot find_slot(ModelWeights& w, const ModelConfig& cfg, const std::string& name) {
  if (name == "model.embed_tokens.weight") return {.matrix = &w.embed};
  if (name == "lm_head.weight") return {.matrix = cfg.tie_word_embeddings ? &w.embed : &w.lm_head};
  if (name == "model.norm.weight") return {.vector = &w.final_norm};
  const std::string prefix = "model.layers.";
  if (name.rfind(prefix, 0) != 0) return {};
  const size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size()) return {};
  int layer = 0;
  for (size_t i = prefix.size(); i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9' || layer > 100000) return {};
    layer = layer * 10 + (name[i] - '0');
  }
  if (layer >= static_cast<int>(w.layers.size())) return {};
  LayerWeights& L = w.layers[layer];
  const std::string leaf = name.substr(dot + 1);
  if (leaf == "input_layernorm.weight") return {.vector = &L.attn_norm};
  if (leaf == "post_attention_layernorm.weight") return {.vector = &L.mlp_norm};
  if (!L.q_bias.empty()) {
    if (leaf == "self_attn.q_proj.bias") return {.vector = &L.q_bias};
    if (leaf == "self_attn.k_proj.bias") return {.vector = &L.k_bias};
    if (leaf == "self_attn.v_proj.bias") return {.vector = &L.v_bias};
  }
  for (WeightMatrix* m :
       {&L.q_proj, &L.k_proj, &L.v_proj, &L.o_proj, &L.gate_proj, &L.up_proj, &L.down_proj})
    if (name == m->name + ".weight") return {.matrix = m};
  if (leaf == "self_attn.rotary_emb.inv_freq") return {.ignored = true};
  return {};
}

Slot require_slot(ModelWeights& w, const ModelConfig& cfg, const std::string& name) {
  Slot s = find_slot(w, cfg, name);
  if (s.matrix || s.vector || s.ignored) return s;
  if (name.ends_with(".scales") || name.ends_with(".biases"))
    fail("load_weights: tensor '", name,
         "' is a quantization parameter; give the float '<module>.weight' instead");
  fail("load_weights: tensor '", name, "' is not a weight of this model (", cfg.architecture, ", ",
       cfg.num_layers, " layers", cfg.attention_bias ? "" : ", no attention bias", ")");
}

// Elements per chunk of the parallel scans and conversions below.
constexpr size_t kChunk = size_t{1} << 16;

// Whether every value is finite, and (when f16_range) within F16's range, in parallel chunks:
// a 7B checkpoint is 15 GB of BF16 to look at before anything changes. Halves are judged by
// their exponent bits (all ones: Inf or NaN), without widening them.
bool values_ok(const TensorUpdate& u, size_t n, bool f16_range) {
  bool ok = true;
  const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
#pragma omp parallel reduction(&& : ok)
  {
    std::vector<float> x(f16_range ? kChunk : 0);
#pragma omp for schedule(dynamic, 1)
    for (int64_t c = 0; c < chunks; ++c) {
      const size_t begin = static_cast<size_t>(c) * kChunk, count = std::min(kChunk, n - begin);
      const uint8_t* src = static_cast<const uint8_t*>(u.data) + begin * dtype_size(u.dtype);
      bool good = true;
      if (f16_range) {
        convert_to_f32(u.dtype, src, x.data(), count);
        for (size_t i = 0; i < count; ++i) good &= std::fabs(x[i]) <= 65504.0f;  // false for NaN
      } else if (u.dtype == DType::F32) {
        const float* p = reinterpret_cast<const float*>(src);
        for (size_t i = 0; i < count; ++i) good &= std::isfinite(p[i]);
      } else {
        const uint16_t mask = u.dtype == DType::F16 ? 0x7C00 : 0x7F80;
        const uint16_t* p = reinterpret_cast<const uint16_t*>(src);
        for (size_t i = 0; i < count; ++i) good &= (p[i] & mask) != mask;
      }
      ok = ok && good;
    }
  }
  return ok;
}

size_t align64(size_t n) {
  return (n + 63) / 64 * 64;
}

// Drops an owned buffer once no matrix points into it (the mapping's memory is not ours).
void release(ModelWeights& w, const uint8_t* data) {
  if (w.embed.data == data || w.lm_head.data == data) return;
  for (const LayerWeights& L : w.layers)
    for (const WeightMatrix* m :
         {&L.q_proj, &L.k_proj, &L.v_proj, &L.o_proj, &L.gate_proj, &L.up_proj, &L.down_proj})
      if (m->data == data) return;
  std::erase_if(w.owned, [&](const auto& b) { return b->data() == data; });
}

}  // namespace

std::vector<int64_t> expected_shape(const Transformer& model, const std::string& name) {
  // find_slot only reads here; it takes a mutable ModelWeights to serve replace_matrix too.
  Slot s = require_slot(const_cast<Transformer&>(model).mutable_weights(), model.config(), name);
  if (s.matrix) return {s.matrix->rows, s.matrix->cols};
  if (s.vector) return {static_cast<int64_t>(s.vector->size())};
  return {model.config().head_dim / 2};
}

// The dtype the model keeps this tensor's values in (a matrix's float or scale type).
static DType stored_dtype(const Transformer& model, const std::string& name) {
  Slot s = find_slot(const_cast<Transformer&>(model).mutable_weights(), model.config(), name);
  if (s.matrix) return s.matrix->float_dtype;
  const TensorView* loaded = model.store().find(name);
  return loaded ? loaded->dtype : DType::F32;
}

void check_updates(const Transformer& model, std::span<const TensorUpdate> updates) {
  for (const TensorUpdate& u : updates) {
    const std::vector<int64_t> want = expected_shape(model, u.name);
    if (u.shape != want)
      fail("load_weights: tensor '", u.name, "' has shape ", shape_string(u.shape), ", expected ",
           shape_string(want));
    if (!is_float_dtype(u.dtype))
      fail("load_weights: tensor '", u.name, "' has dtype ", dtype_name(u.dtype),
           ", expected F32, F16 or BF16");
    if (u.data == nullptr) fail("load_weights: tensor '", u.name, "' has no data");
    size_t n = 1;
    for (int64_t d : u.shape) n *= static_cast<size_t>(d);
    if (!values_ok(u, n, false))
      fail("load_weights: tensor '", u.name, "' has a non-finite value (NaN or Inf)");
    // An F16 destination (float module, scales, or a norm loaded as F16) cannot hold |x| > 65504.
    if (stored_dtype(model, u.name) == DType::F16 && u.dtype != DType::F16 && !values_ok(u, n, true)) {
      std::vector<float> x(n);
      convert_to_f32(u.dtype, u.data, x.data(), n);
      for (float v : x)
        if (std::fabs(v) > 65504.0f)
          fail("load_weights: tensor '", u.name, "' has a value (", v, ") beyond the model's F16 range");
    }
  }
}

void update_weights(Transformer& model, std::span<const TensorUpdate> updates, QuantMethod method) {
  check_updates(model, updates);
  const ModelConfig& cfg = model.config();
  ModelWeights& w = model.mutable_weights();
  model.mark_weights_changed();
  // Tied: lm_head.weight is the embedding; when both come, the embedding alone is enough.
  const bool has_embed = std::any_of(updates.begin(), updates.end(), [](const TensorUpdate& u) {
    return u.name == "model.embed_tokens.weight";
  });
  std::vector<float> buf;
  for (const TensorUpdate& u : updates) {
    if (cfg.tie_word_embeddings && has_embed && u.name == "lm_head.weight") continue;
    Slot s = find_slot(w, cfg, u.name);
    if (s.ignored) continue;
    if (s.matrix) {
      replace_matrix(w, cfg, u.name, u.dtype, u.data, method);  // converts row by row
      continue;
    }
    buf.resize(s.vector->size());
    convert_to_f32(u.dtype, u.data, buf.data(), buf.size());
    const TensorView* loaded = model.store().find(u.name);
    set_vector(w, u.name, buf.data(), loaded ? loaded->dtype : DType::F32);
  }
}

void replace_matrix(ModelWeights& w, const ModelConfig& cfg, const std::string& hf_name, DType src_dtype,
                    const void* src, QuantMethod method) {
  WeightMatrix* m = require_slot(w, cfg, hf_name).matrix;
  if (m == nullptr) fail("load_weights: tensor '", hf_name, "' is not a weight matrix");
  const WeightMatrix old = *m;
  const DType dt = old.float_dtype;
  const size_t n = static_cast<size_t>(old.rows) * old.cols;
  const size_t packed = align64(static_cast<size_t>(old.rows) * old.row_bytes());
  const size_t sb = align64(static_cast<size_t>(old.rows) * old.groups_per_row() * dtype_size(dt));
  const size_t bytes = old.format == WeightFormat::Float ? n * dtype_size(dt) : packed + 2 * sb;
  // A matrix an earlier sync made is refilled in place: its buffers have the right sizes, and
  // new ones would cost a page fault and a zeroed page per 4 KB (a quarter of a sync's time),
  // and lose the 2 MB pages the loader gave the interleaved codes. Nothing else reads them:
  // the caller holds the model exclusively, and only a tied LM head shares them (reset below).
  std::vector<uint8_t>* target = nullptr;
  for (const auto& b : w.owned)
    if (b->data() == old.data && b->size() == bytes) target = b.get();
  std::unique_ptr<std::vector<uint8_t>> made;
  if (target == nullptr) {
    made = std::make_unique<std::vector<uint8_t>>(bytes);
    target = made.get();
  }
  std::vector<uint8_t>* const buf = target;
  WeightMatrix fresh = old;
  if (old.format == WeightFormat::Float) {
    uint8_t* out = buf->data();
#pragma omp parallel
    {
      std::vector<float> x(kChunk);
#pragma omp for schedule(dynamic, 1)
      for (int64_t c = 0; c < static_cast<int64_t>((n + kChunk - 1) / kChunk); ++c) {
        const size_t begin = static_cast<size_t>(c) * kChunk, count = std::min(kChunk, n - begin);
        float* dst = dt == DType::F32 ? reinterpret_cast<float*>(out) + begin : x.data();
        convert_to_f32(src_dtype, static_cast<const uint8_t*>(src) + begin * dtype_size(src_dtype), dst, count);
        if (dt != DType::F32)
          for (size_t i = 0; i < count; ++i) store_scalar(dt, x[i], out, static_cast<int64_t>(begin + i));
      }
    }
    fresh.data = buf->data();
  } else {
    fresh.data = buf->data();
    fresh.scales = buf->data() + packed;
    fresh.biases = buf->data() + packed + sb;
    QuantizeOptions opt{.spec = QuantSpec{.bits = old.bits, .group_size = old.group_size},
                        .method = method,
                        .scale_dtype = dt};
    // As `qlm convert`: each row rounded to the scale type first, then quantized.
    quantize_rows_converting(src, src_dtype, dt, old.rows, old.cols, opt, buf->data(), buf->data() + packed,
                             buf->data() + packed + sb);
  }
  // The old matrix's blocked scales and interleaved codes, rebuilt for the new values (into
  // the same buffers: always ones the loader or an earlier sync allocated, never the mapping)
  // where a kernel uses them.
  fresh.blocked_params.reset();
  if (m != &w.embed || cfg.tie_word_embeddings) {
    if (old.blocked_params) attach_blocked_params(fresh, std::const_pointer_cast<uint8_t>(old.blocked_params));
    else attach_blocked_params(fresh);
  }
  fresh.interleaved_codes.reset();
  if (old.interleaved_codes) attach_interleaved_codes(fresh, std::const_pointer_cast<uint8_t>(old.interleaved_codes));
  if (made) w.owned.push_back(std::move(made));
  *m = fresh;
  if (cfg.tie_word_embeddings && m == &w.embed) w.lm_head = w.embed;
  if (made) release(w, old.data);
}

void set_vector(ModelWeights& w, const std::string& hf_name, const float* data, DType round_to) {
  ModelConfig any;  // vectors resolve without the config (it only matters for lm_head)
  std::vector<float>* v = require_slot(w, any, hf_name).vector;
  if (v == nullptr) fail("load_weights: tensor '", hf_name, "' is not a norm weight or bias");
  for (size_t i = 0; i < v->size(); ++i)
    (*v)[i] = round_to == DType::F32 ? data[i] : round_to_dtype(data[i], round_to);
}

}  // namespace qlm
