// Model folder inspection.
#include "convert/inspect.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "base/error.h"
#include "io/model_config.h"
#include "io/tensor_store.h"
#include "model/weights.h"

namespace qlm {

using ojson = nlohmann::ordered_json;

namespace {

struct Check {
  std::string name;
  bool ok;
  std::string detail;
};


// Float parameter count and the bytes a folder of this config and quantization should hold.
struct Expected {
  uint64_t params = 0;
  double bytes = 0;
};

Expected expected_size(const ModelConfig& c, const std::vector<WeightMatrix*>& matrices,
                       double float_bytes_per_elem, uint64_t vector_params) {
  Expected e;
  for (const WeightMatrix* m : matrices) {
    const double n = static_cast<double>(m->rows) * m->cols;
    e.params += static_cast<uint64_t>(n);
    if (m->format == WeightFormat::Affine)
      e.bytes += n * m->bits / 8 + 2.0 * n / m->group_size * float_bytes_per_elem;
    else
      e.bytes += n * dtype_size(m->float_dtype);
  }
  e.params += vector_params;
  e.bytes += vector_params * float_bytes_per_elem;
  return e;
}

std::string format_of(const WeightMatrix& m) {
  if (m.format == WeightFormat::Affine)
    return cat("q", m.bits, " g", m.group_size, " (", dtype_name(m.float_dtype), " scales)");
  return std::string(dtype_name(m.float_dtype));
}

bool all_finite(DType t, const uint8_t* p, size_t n) {
  std::vector<float> buf(4096);
  for (size_t i = 0; i < n; i += buf.size()) {
    const size_t k = std::min(buf.size(), n - i);
    convert_to_f32(t, p + i * dtype_size(t), buf.data(), k);
    for (size_t j = 0; j < k; ++j)
      if (!std::isfinite(buf[j])) return false;
  }
  return true;
}

}  // namespace

ojson inspect_model(const std::string& dir, const InspectOptions& opt) {
  ModelConfig cfg = load_model_config(dir);
  TensorStore store(dir);
  std::vector<Check> checks;
  ojson report;
  report["folder"] = dir;
  report["architecture"] = cfg.architecture;
  report["shape"] = {{"hidden_size", cfg.hidden_size}, {"intermediate_size", cfg.intermediate_size},
                     {"layers", cfg.num_layers}, {"heads", cfg.num_heads}, {"kv_heads", cfg.num_kv_heads},
                     {"head_dim", cfg.head_dim}, {"vocab_size", cfg.vocab_size},
                     {"tied_embeddings", cfg.tie_word_embeddings}};
  if (cfg.quantization)
    report["config_quantization"] = {{"bits", cfg.quantization->defaults.bits},
                                     {"group_size", cfg.quantization->defaults.group_size},
                                     {"overrides", cfg.quantization->overrides.size()}};

  ModelWeights w;
  bool loaded = true;
  try {
    w = load_weights(cfg, store);
    checks.push_back({"tensors present with the shapes config.json implies", true, ""});
  } catch (const Error& e) {
    loaded = false;
    checks.push_back({"tensors present with the shapes config.json implies", false, e.what()});
  }

  std::vector<WeightMatrix*> matrices;
  if (loaded) {
    matrices.push_back(&w.embed);
    if (!cfg.tie_word_embeddings) matrices.push_back(&w.lm_head);
    for (LayerWeights& L : w.layers)
      for (WeightMatrix* m : {&L.q_proj, &L.k_proj, &L.v_proj, &L.o_proj, &L.gate_proj, &L.up_proj, &L.down_proj})
        matrices.push_back(m);

    // Formats in use, e.g. {"q4 g64 (BF16 scales)": 168, "BF16": 1}.
    std::map<std::string, int> formats;
    for (const WeightMatrix* m : matrices) formats[format_of(*m)]++;
    report["formats"] = formats;

    // MLX rule: with a quantization config, a module is quantized unless an override says
    // false or its rows are not a multiple of the group size.
    if (cfg.quantization) {
      std::vector<std::string> unquantized;
      for (const WeightMatrix* m : matrices) {
        auto it = cfg.quantization->overrides.find(m->name);
        const bool excluded = it != cfg.quantization->overrides.end() && !it->second;
        const int g = (it != cfg.quantization->overrides.end() && it->second) ? it->second->group_size
                                                                              : cfg.quantization->defaults.group_size;
        // Old mlx-lm converts left the embedding in float; mlx-lm loads them as they are.
        const bool legacy_embedding = m->name == "model.embed_tokens";
        if (m->format != WeightFormat::Affine && !excluded && !legacy_embedding && m->cols % g == 0)
          unquantized.push_back(m->name);
      }
      std::string detail;
      for (size_t i = 0; i < unquantized.size() && i < 5; ++i) detail += (i ? ", " : "") + unquantized[i];
      if (unquantized.size() > 5) detail += cat(" and ", unquantized.size() - 5, " more");
      checks.push_back({"every module the config says is quantized is quantized", unquantized.empty(),
                        unquantized.empty() ? "" : "not quantized: " + detail});
    } else {
      checks.push_back({"not quantized (no 'quantization' in config.json)", true, ""});
    }
  }

  // Sizes: actual bytes of weight files vs what the config implies.
  uint64_t vector_params = 0;
  double float_elem = 2.0;
  for (const auto& [name, t] : store.all()) {
    if (t->shape.size() == 1) {
      vector_params += static_cast<uint64_t>(t->numel());
      float_elem = static_cast<double>(dtype_size(t->dtype));
    }
  }
  const uint64_t file_bytes = store.total_file_bytes();
  uint64_t tensor_bytes = 0;  // without the JSON headers, which dominate in tiny models
  for (const auto& [name, t] : store.all()) tensor_bytes += t->nbytes;
  report["file_bytes"] = file_bytes;
  report["tensor_bytes"] = tensor_bytes;
  if (loaded) {
    Expected e = expected_size(cfg, matrices, float_elem, vector_params);
    report["parameters"] = e.params;
    report["expected_bytes"] = static_cast<uint64_t>(e.bytes);
    report["bits_per_weight"] = 8.0 * static_cast<double>(tensor_bytes) / static_cast<double>(e.params);
    const double ratio = static_cast<double>(tensor_bytes) / e.bytes;
    checks.push_back({"tensor bytes match the config's shapes and quantization (within 1%)",
                      std::fabs(ratio - 1.0) < 0.01,
                      cat("tensors ", tensor_bytes / 1e6, " MB, expected ", e.bytes / 1e6, " MB")});
  }

  if (opt.scan_values) {
    std::vector<std::string> bad;
    for (const auto& [name, t] : store.all())
      if (is_float_dtype(t->dtype) && !all_finite(t->dtype, t->data, static_cast<size_t>(t->numel())))
        bad.push_back(name);
    std::string detail;
    for (size_t i = 0; i < bad.size() && i < 5; ++i) detail += (i ? ", " : "") + bad[i];
    checks.push_back({"weights, scales and biases are finite", bad.empty(),
                      bad.empty() ? "" : "NaN or Inf in " + detail});
  }

  if (opt.per_tensor) {
    ojson rows = ojson::array();
    for (const auto& [name, t] : store.all())
      rows.push_back({{"name", name}, {"dtype", std::string(dtype_name(t->dtype))}, {"shape", t->shape},
                      {"bytes", t->nbytes}});
    report["tensors"] = rows;
  }

  bool ok = true;
  ojson jc = ojson::array();
  for (const Check& c : checks) {
    ok = ok && c.ok;
    jc.push_back({{"check", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  }
  report["checks"] = jc;
  report["verdict"] = ok ? "ok" : "problems found";
  return report;
}

std::string render_inspect_text(const ojson& r) {
  std::ostringstream o;
  char buf[256];
  o << r["folder"].get<std::string>() << "\n";
  const auto& s = r["shape"];
  o << "  architecture   " << r["architecture"].get<std::string>() << "  (hidden " << s["hidden_size"]
    << ", " << s["layers"] << " layers, " << s["heads"] << " heads / " << s["kv_heads"] << " KV, vocab "
    << s["vocab_size"] << (s["tied_embeddings"].get<bool>() ? ", tied embeddings" : ", untied") << ")\n";
  if (r.contains("parameters")) {
    const double p = r["parameters"].get<double>();
    if (p >= 1e9) std::snprintf(buf, sizeof buf, "  parameters     %.2f B\n", p / 1e9);
    else std::snprintf(buf, sizeof buf, "  parameters     %.2f M\n", p / 1e6);
    o << buf;
  }
  if (r.contains("formats")) {
    o << "  format        ";
    for (auto it = r["formats"].begin(); it != r["formats"].end(); ++it)
      o << " " << it.key() << " x" << it.value().get<int>();
    o << "\n";
  }
  if (r.contains("bits_per_weight")) {
    std::snprintf(buf, sizeof buf, "  bits/weight    %.2f (including scales, biases and norms)\n",
                  r["bits_per_weight"].get<double>());
    o << buf;
  }
  std::snprintf(buf, sizeof buf, "  size           %.1f MB on disk", r["file_bytes"].get<double>() / 1e6);
  o << buf;
  if (r.contains("expected_bytes")) {
    std::snprintf(buf, sizeof buf, ", %.1f MB expected from the config", r["expected_bytes"].get<double>() / 1e6);
    o << buf;
  }
  o << "\n";
  if (r.contains("tensors")) {
    o << "  tensors:\n";
    for (const auto& t : r["tensors"]) {
      std::snprintf(buf, sizeof buf, "    %-56s %-5s %-16s %12.3f MB\n", t["name"].get<std::string>().c_str(),
                    t["dtype"].get<std::string>().c_str(), t["shape"].dump().c_str(), t["bytes"].get<double>() / 1e6);
      o << buf;
    }
  }
  o << "  checks:\n";
  for (const auto& c : r["checks"]) {
    o << "    [" << (c["ok"].get<bool>() ? "ok" : "FAIL") << "] " << c["check"].get<std::string>();
    if (!c["detail"].get<std::string>().empty()) o << ": " << c["detail"].get<std::string>();
    o << "\n";
  }
  o << "  verdict        " << r["verdict"].get<std::string>() << "\n";
  return o.str();
}

}  // namespace qlm
