// Data-free activation second-moment estimates.
#include "convert/importance.h"

#include <cmath>

#include "base/error.h"

namespace qlm {

namespace {

std::vector<float> read_vector(const TensorStore& store, const std::string& name) {
  const TensorView& t = store.get(name);
  std::vector<float> v(static_cast<size_t>(t.numel()));
  convert_to_f32(t.dtype, t.data, v.data(), v.size());
  return v;
}

// Per output row r of W [rows][cols]: sum_c W[r][c]^2 * in_var[c] (+ bias[r]^2): the
// variance of W x + b for independent inputs of variances in_var.
std::vector<double> output_variance(const TensorStore& store, const std::string& weight,
                                    const std::vector<float>& in_var, const std::string& bias) {
  const TensorView& t = store.get(weight);
  const int64_t rows = t.shape.at(0), cols = t.shape.at(1);
  QLM_CHECK(static_cast<int64_t>(in_var.size()) == cols);
  std::vector<double> out(static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols));
  const size_t esize = dtype_size(t.dtype);
  for (int64_t r = 0; r < rows; ++r) {
    convert_to_f32(t.dtype, t.data + static_cast<size_t>(r) * cols * esize, row.data(), row.size());
    double s = 0;
    for (int64_t c = 0; c < cols; ++c) s += static_cast<double>(row[c]) * row[c] * in_var[c];
    out[r] = s;
  }
  if (!bias.empty() && store.contains(bias)) {
    std::vector<float> b = read_vector(store, bias);
    for (int64_t r = 0; r < rows; ++r) out[r] += static_cast<double>(b[r]) * b[r];
  }
  return out;
}

// E[silu(g)^2] for g ~ N(0, var), by Gauss-Hermite quadrature (probabilists' weights).
double silu_second_moment(double var) {
  // 10-point Gauss-Hermite nodes/weights for exp(-x^2); E[f(g)] = sum w_i f(sqrt(2 var) x_i) / sqrt(pi).
  static const double x[] = {-3.4361591188, -2.5327316742, -1.7566836493, -1.0366108298, -0.3429013272,
                             0.3429013272,  1.0366108298,  1.7566836493,  2.5327316742,  3.4361591188};
  static const double w[] = {7.640432855e-06, 1.343645747e-03, 3.387439446e-02, 2.401386111e-01, 6.108626337e-01,
                             6.108626337e-01, 2.401386111e-01, 3.387439446e-02, 1.343645747e-03, 7.640432855e-06};
  const double sd = std::sqrt(2.0 * var);
  double e = 0;
  for (int i = 0; i < 10; ++i) {
    const double g = sd * x[i];
    const double s = g / (1.0 + std::exp(-g));
    e += w[i] * s * s;
  }
  return e / std::sqrt(M_PI);
}

std::vector<float> squared(const std::vector<float>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] * v[i];
  return out;
}


}  // namespace

std::vector<float> data_free_importance(const ModelConfig& cfg, const TensorStore& store,
                                        const std::string& module) {
  const size_t dot = module.rfind('.');
  const std::string parent = dot == std::string::npos ? "" : module.substr(0, dot);  // "...self_attn"
  const size_t dot2 = parent.rfind('.');
  const std::string layer = dot2 == std::string::npos ? "" : parent.substr(0, dot2);  // "model.layers.3"

  if (module.ends_with("lm_head") || (module.ends_with("embed_tokens") && cfg.tie_word_embeddings))
    return squared(read_vector(store, "model.norm.weight"));
  if (module.ends_with("q_proj") || module.ends_with("k_proj") || module.ends_with("v_proj"))
    return squared(read_vector(store, layer + ".input_layernorm.weight"));
  if (module.ends_with("gate_proj") || module.ends_with("up_proj"))
    return squared(read_vector(store, layer + ".post_attention_layernorm.weight"));
  if (module.ends_with("o_proj")) {
    const std::vector<float> in_var = squared(read_vector(store, layer + ".input_layernorm.weight"));
    std::vector<double> v_var =
        output_variance(store, layer + ".self_attn.v_proj.weight", in_var, layer + ".self_attn.v_proj.bias");
    // o_proj column c belongs to query head c / head_dim, which reads KV head (c / head_dim) / group.
    const int hd = cfg.head_dim, group = cfg.num_heads / cfg.num_kv_heads;
    std::vector<float> out(static_cast<size_t>(cfg.q_dim()));
    for (int c = 0; c < cfg.q_dim(); ++c) out[c] = static_cast<float>(v_var[(c / hd / group) * hd + c % hd]);
    return out;
  }
  if (module.ends_with("down_proj")) {
    const std::vector<float> in_var = squared(read_vector(store, layer + ".post_attention_layernorm.weight"));
    std::vector<double> g = output_variance(store, layer + ".mlp.gate_proj.weight", in_var, "");
    std::vector<double> u = output_variance(store, layer + ".mlp.up_proj.weight", in_var, "");
    std::vector<float> out(g.size());
    for (size_t c = 0; c < g.size(); ++c) out[c] = static_cast<float>(silu_second_moment(g[c]) * u[c]);
    return out;
  }
  return {};
}

}  // namespace qlm
