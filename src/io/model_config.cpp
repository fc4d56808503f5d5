// config.json parsing with errors that name the file and the field.
#include "io/model_config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"

namespace qlm {

using nlohmann::json;

namespace {

// Field accessors that fail with "<file>: field 'x' ..." messages.
class Fields {
 public:
  Fields(const json& j, const std::string& source) : j_(j), source_(source) {}

  int require_int(const char* key, int min_value = 1, int max_value = kMaxInt) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) fail(source_, ": missing field '", key, "'");
    return to_int(*it, key, min_value, max_value);
  }
  std::optional<int> optional_int(const char* key, int min_value = 0, int max_value = kMaxInt) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    return to_int(*it, key, min_value, max_value);
  }
  std::optional<double> optional_number(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) fail(source_, ": field '", key, "' must be a number");
    return it->get<double>();
  }
  std::optional<bool> optional_bool(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) fail(source_, ": field '", key, "' must be true or false");
    return it->get<bool>();
  }
  std::optional<std::string> optional_string(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) fail(source_, ": field '", key, "' must be a string");
    return it->get<std::string>();
  }
  // eos_token_id: an int or a list of ints.
  std::vector<int> int_or_list(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return {};
    if (it->is_array()) {
      std::vector<int> out;
      for (const json& v : *it) out.push_back(to_int(v, key, 0));
      return out;
    }
    return {to_int(*it, key, 0)};
  }

 private:
  static constexpr int kMaxInt = (1ll << 31) - 1;
  int to_int(const json& v, const char* key, int min_value, int max_value = kMaxInt) const {
    if (!v.is_number_integer()) fail(source_, ": field '", key, "' must be an integer");
    // A large unsigned value reads as negative int64 and is refused below, as it should be.
    int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{kMaxInt} ? int64_t{kMaxInt} + 1 : v.get<int64_t>();
    if (x < min_value || x > max_value) {
      if (max_value == kMaxInt) fail(source_, ": field '", key, "' is ", v.dump(), ", expected an integer >= ", min_value);
      fail(source_, ": field '", key, "' is ", v.dump(), ", expected an integer in [", min_value, ", ", max_value, "]");
    }
    return static_cast<int>(x);
  }
  const json& j_;
  std::string source_;  // a copy: callers pass temporaries such as source + ": rope_scaling"
};

QuantSpec parse_quant_spec(const json& q, const QuantSpec& base, const std::string& where) {
  if (!q.is_object()) fail(where, " must be an object with bits and group_size");
  QuantSpec spec = base;
  Fields f(q, where);
  if (auto b = f.optional_int("bits", 1)) spec.bits = *b;
  if (auto g = f.optional_int("group_size", 1)) spec.group_size = *g;
  if (auto m = f.optional_string("mode")) spec.mode = *m;  // missing mode means affine
  if (spec.mode != "affine")
    fail(where, ": quantization mode '", spec.mode, "' is not supported (only 'affine')");
  if (spec.bits < 2 || spec.bits > 8 || spec.bits == 7)
    fail(where, ": bits ", spec.bits, " is not supported (2, 3, 4, 5, 6 or 8)");
  if (spec.group_size != 32 && spec.group_size != 64 && spec.group_size != 128)
    fail(where, ": group_size ", spec.group_size, " is not supported (32, 64 or 128)");
  return spec;
}

QuantizationConfig parse_quantization(const json& q, const std::string& source) {
  QuantizationConfig out;
  std::string where = source + ": field 'quantization'";
  out.defaults = parse_quant_spec(q, QuantSpec{}, where);
  for (auto it = q.begin(); it != q.end(); ++it) {
    const std::string& key = it.key();
    if (key == "bits" || key == "group_size" || key == "mode") continue;
    if (it.value().is_boolean()) {
      if (it.value().get<bool>()) out.overrides[key] = out.defaults;
      else out.overrides[key] = std::nullopt;
    } else if (it.value().is_object()) {
      out.overrides[key] = parse_quant_spec(it.value(), out.defaults, where + "['" + key + "']");
    }
    // Other scalar keys (e.g. "quantize_activations") are not module paths; ignore them here.
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ModelConfig parse_model_config(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(source, ": not valid JSON");
  if (!j.is_object()) fail(source, ": expected a JSON object");
  Fields f(j, source);
  ModelConfig c;

  auto arch = j.find("architectures");
  if (arch == j.end() || !arch->is_array() || arch->empty() || !(*arch)[0].is_string())
    fail(source, ": missing field 'architectures'");
  c.architecture = (*arch)[0].get<std::string>();
  c.model_type = f.optional_string("model_type").value_or("");
  if (c.architecture == "Qwen2ForCausalLM") {
    c.attention_bias = true;  // Qwen2 always has q/k/v biases; there is no config key for it
  } else if (c.architecture == "LlamaForCausalLM") {
    c.attention_bias = f.optional_bool("attention_bias").value_or(false);
    if (f.optional_bool("mlp_bias").value_or(false))
      fail(source, ": field 'mlp_bias' = true is not supported");
  } else {
    fail(source, ": architecture '", c.architecture,
         "' is not supported (supported: Qwen2ForCausalLM, LlamaForCausalLM)");
  }
  if (auto act = f.optional_string("hidden_act"); act && *act != "silu")
    fail(source, ": hidden_act '", *act, "' is not supported (only silu)");

  // Bounds on the shape (real models are far inside them) keep every size computed from it,
  // such as vocab_size * hidden_size or num_heads * head_dim, far from overflow.
  c.hidden_size = f.require_int("hidden_size", 1, kMaxModelWidth);
  c.intermediate_size = f.require_int("intermediate_size", 1, kMaxModelWidth);
  c.num_layers = f.require_int("num_hidden_layers", 1, kMaxModelLayers);
  c.num_heads = f.require_int("num_attention_heads", 1, kMaxModelHeads);
  c.num_kv_heads = f.optional_int("num_key_value_heads", 1, kMaxModelHeads).value_or(c.num_heads);
  c.vocab_size = f.require_int("vocab_size", 1, kMaxModelVocab);
  c.max_position_embeddings = f.optional_int("max_position_embeddings", 1, kMaxModelContext).value_or(4096);
  if (auto hd = f.optional_int("head_dim", 1, kMaxModelHeadDim)) {
    c.head_dim = *hd;
  } else {
    if (c.hidden_size % c.num_heads != 0)
      fail(source, ": hidden_size ", c.hidden_size, " is not divisible by num_attention_heads ",
           c.num_heads, " and no head_dim is given");
    c.head_dim = c.hidden_size / c.num_heads;
  }
  if (c.head_dim % 2 != 0) fail(source, ": head_dim ", c.head_dim, " must be even for RoPE");
  if (c.num_heads % c.num_kv_heads != 0)
    fail(source, ": num_attention_heads ", c.num_heads,
         " is not a multiple of num_key_value_heads ", c.num_kv_heads);
  c.rms_norm_eps = static_cast<float>(f.optional_number("rms_norm_eps").value_or(1e-6));
  c.tie_word_embeddings = f.optional_bool("tie_word_embeddings").value_or(false);

  // RoPE: 4.x has rope_theta (+ rope_scaling); 5.x has rope_parameters {rope_theta, rope_type}.
  std::optional<double> theta = f.optional_number("rope_theta");
  std::string rope_type = "default";
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    auto rp = j.find(key);
    if (rp == j.end() || rp->is_null()) continue;
    if (!rp->is_object()) fail(source, ": field '", key, "' must be an object");
    Fields rf(*rp, source + ": " + key);
    if (auto t = rf.optional_number("rope_theta")) theta = t;
    if (auto t = rf.optional_string("rope_type")) rope_type = *t;
    else if (auto t2 = rf.optional_string("type")) rope_type = *t2;
  }
  if (rope_type != "default")
    fail(source, ": rope type '", rope_type, "' is not supported (only default RoPE)");
  c.rope_theta = theta.value_or(10000.0);
  if (!(c.rope_theta > 0)) fail(source, ": field 'rope_theta' must be positive");

  if (f.optional_bool("use_sliding_window").value_or(false))
    fail(source, ": use_sliding_window = true is not supported");

  c.dtype = f.optional_string("dtype").value_or(f.optional_string("torch_dtype").value_or(""));
  c.bos_token_id = f.optional_int("bos_token_id");
  c.eos_token_ids = f.int_or_list("eos_token_id");

  auto q = j.find("quantization");
  if (q == j.end() || q->is_null()) q = j.find("quantization_config");
  if (q != j.end() && !q->is_null()) c.quantization = parse_quantization(*q, source);
  return c;
}

void apply_generation_config(ModelConfig& c, const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) fail(source, ": not a valid JSON object");
  Fields f(j, source);
  if (auto eos = f.int_or_list("eos_token_id"); !eos.empty()) c.eos_token_ids = eos;
  if (auto bos = f.optional_int("bos_token_id")) c.bos_token_id = bos;
  if (auto t = f.optional_number("temperature")) c.gen_temperature = static_cast<float>(*t);
  if (auto t = f.optional_number("top_p")) c.gen_top_p = static_cast<float>(*t);
  if (auto t = f.optional_number("repetition_penalty"))
    c.gen_repetition_penalty = static_cast<float>(*t);
  if (auto k = f.optional_int("top_k")) c.gen_top_k = *k;
}

ModelConfig load_model_config(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path cfg_path = fs::path(dir) / "config.json";
  if (!fs::is_directory(dir)) fail(dir, ": model folder does not exist");
  if (!fs::exists(cfg_path)) fail(cfg_path.string(), ": missing (is this a model folder?)");
  ModelConfig c = parse_model_config(read_text(cfg_path.string()), cfg_path.string());
  fs::path gen = fs::path(dir) / "generation_config.json";
  if (fs::exists(gen)) apply_generation_config(c, read_text(gen.string()), gen.string());
  return c;
}

}  // namespace qlm
