// Conversion execution: temp folder, shard writers, row-block streaming, config and index,
// atomic rename.
#include "convert/convert.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "base/progress.h"
#include "base/timer.h"
#include "convert/calibration.h"
#include "convert/importance.h"
#include "convert/plan.h"
#include "quant/format_spelling.h"
#include "quant/gptq.h"
#include "io/model_config.h"

namespace qlm {

namespace fs = std::filesystem;
using nlohmann::json;

void parse_quantize_flag(const std::string& text, int* bits, std::optional<DType>* float_dtype) {
  const std::optional<FormatSpelling> f = parse_format_spelling(text);
  if (!f || (f->bits == 0 && !f->float_dtype))
    fail("--quantize: '", text, "' is not a format (q2, q3, q4, q5, q6, q8, q4_bit, q8_bit, bf16, f16, f32)");
  *bits = f->bits;
  if (f->bits == 0) *float_dtype = f->float_dtype;
}

namespace {

// Drops the pages of a processed source tensor from our resident set (the mapping stays valid).
void release_pages(const TensorView& t) {
  const long page = ::sysconf(_SC_PAGESIZE);
  auto begin = reinterpret_cast<uintptr_t>(t.data);
  auto end = begin + t.nbytes;
  begin = (begin + page - 1) / page * page;
  end = end / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// Reads rows [r0, r0 + n) of a 2-D (or 1-D: one row) float tensor as F32, rounded to dt first:
// MLX casts the model to its dtype before quantizing, so rtn stays bit-exact with mlx-lm.
void read_rows(const TensorView& t, int64_t r0, int64_t n, int64_t cols, DType dt, float* out) {
  const size_t esize = dtype_size(t.dtype);
  convert_to_f32(t.dtype, t.data + static_cast<size_t>(r0) * cols * esize, out, static_cast<size_t>(n * cols));
  if (dt != DType::F32 && t.dtype != dt)
    for (int64_t i = 0; i < n * cols; ++i) out[i] = round_to_dtype(out[i], dt);
}

struct ShardWriter {
  std::string file_name;
  std::unique_ptr<SafetensorsWriter> writer;
};

class Converter {
 public:
  Converter(const ConvertOptions& opt, const ModelConfig& cfg, const TensorStore& store, ConvertPlan& plan,
            const fs::path& tmp)
      : opt_(opt), cfg_(cfg), store_(store), plan_(plan), tmp_(tmp) {
    const size_t n = plan.shards.size();
    for (size_t i = 0; i < n; ++i) {
      std::string name = n == 1 ? "model.safetensors"
                                : cat("model-", pad5(i + 1), "-of-", pad5(n), ".safetensors");
      shards_.push_back({name, std::make_unique<SafetensorsWriter>((tmp / name).string(), plan.shards[i],
                                                                   std::map<std::string, std::string>{{"format", "mlx"}})});
      for (const TensorSpec& s : plan.shards[i]) where_[s.name] = i;
    }
  }

  void set_calibration(std::map<std::string, ActivationStats> stats) { calib_ = std::move(stats); }

  void run(ConvertReport& report) {
    double total = 0;
    for (const PlannedTensor& t : plan_.tensors) total += static_cast<double>(t.source->nbytes);
    Progress progress("convert", total, 1e6, "MB");
    double done = 0;
    for (const PlannedTensor& t : plan_.tensors) {
      if (t.quantize) {
        write_quantized(t);
        ++report.modules_quantized;
      } else {
        write_float(t);
      }
      release_pages(*t.source);
      done += static_cast<double>(t.source->nbytes);
      if (opt_.progress) progress.update(done, t.source->name);
    }
    for (auto& s : shards_) s.writer->finish();
    if (opt_.progress) progress.finish();
    report.files = static_cast<int>(shards_.size());
  }

  json weight_map() const {
    json m = json::object();
    for (const auto& [name, shard] : where_) m[name] = shards_[shard].file_name;
    return m;
  }

 private:
  static std::string pad5(size_t v) {
    std::string s = std::to_string(v);
    return std::string(5 - std::min<size_t>(5, s.size()), '0') + s;
  }

  void check_cancel() const {
    if (opt_.cancel && opt_.cancel->load()) fail("interrupted; no output was written");
  }

  std::pair<SafetensorsWriter*, size_t> target(const std::string& name) {
    SafetensorsWriter* w = shards_[where_.at(name)].writer.get();
    return {w, w->index_of(name)};
  }

  // A scale or bias that overflowed its storage type (F16 above 65504) would corrupt the model.
  static void check_scales_finite(const TensorView& v, DType dt, const uint8_t* s, const uint8_t* b, size_t n) {
    std::vector<float> tmp(n);
    for (const uint8_t* p : {s, b}) {
      convert_to_f32(dt, p, tmp.data(), n);
      for (float x : tmp)
        if (!std::isfinite(x)) fail(*v.file, ": tensor '", v.name, "': a scale or bias overflows ", dtype_name(dt), "; use --dtype bf16");
    }
  }

  static int64_t block_rows(int64_t cols) { return std::max<int64_t>(1, (int64_t{4} << 20) / std::max<int64_t>(cols, 1)); }

  void write_float(const PlannedTensor& t) {
    const TensorView& v = *t.source;
    const TensorSpec& out = t.outputs[0];
    auto [w, idx] = target(out.name);
    if (!is_float_dtype(v.dtype) || v.dtype == out.dtype) {  // copy bytes as they are
      w->write(idx, 0, v.data, v.nbytes);
      return;
    }
    const int64_t cols = v.shape.empty() ? 1 : v.shape.back();
    const int64_t rows = cols == 0 ? 0 : v.numel() / cols;
    const int64_t step = block_rows(cols);
    std::vector<float> buf(static_cast<size_t>(std::min(rows, step) * cols));
    std::vector<uint8_t> enc(buf.size() * dtype_size(out.dtype));
    for (int64_t r = 0; r < rows; r += step) {
      check_cancel();
      const int64_t n = std::min(step, rows - r);
      read_rows(v, r, n, cols, DType::F32, buf.data());
      for (int64_t i = 0; i < n * cols; ++i) {
        if (out.dtype == DType::F16 && std::isfinite(buf[i]) && std::fabs(buf[i]) > 65504.0f)
          fail(*v.file, ": tensor '", v.name, "' has a value (", buf[i], ") beyond F16's range; use --dtype bf16");
        store_scalar(out.dtype, buf[i], enc.data(), i);
      }
      w->write(idx, static_cast<uint64_t>(r * cols) * dtype_size(out.dtype), enc.data(),
               static_cast<uint64_t>(n * cols) * dtype_size(out.dtype));
    }
  }

  void write_quantized(const PlannedTensor& t) {
    const TensorView& v = *t.source;
    const int64_t rows = v.shape[0], cols = v.shape[1];
    const int g = t.spec.group_size, bits = t.spec.bits;
    const DType dt = plan_.float_dtype;
    auto [wb, ib] = target(t.module + ".biases");
    auto [ws, is] = target(t.module + ".scales");
    auto [ww, iw] = target(t.module + ".weight");
    const size_t row_bytes = static_cast<size_t>(cols) * bits / 8;
    const size_t sb_row = static_cast<size_t>(cols / g) * dtype_size(dt);
    std::vector<float> importance;
    const ActivationStats* stats = nullptr;
    if (opt_.method != QuantMethod::Rtn) {
      auto it = calib_.find(t.module);
      if (it != calib_.end()) stats = &it->second;
      if (stats) importance = stats->mean_sq();
      else if (opt_.importance) importance = data_free_importance(cfg_, store_, t.module);
    }
    GptqFactor gptq;
    if (stats && !stats->gram.empty() && stats->cols == cols) gptq = make_gptq_factor(stats->gram, cols);
    const int64_t step = block_rows(cols);
    std::vector<float> buf(static_cast<size_t>(std::min(rows, step) * cols));
    std::vector<uint8_t> packed(static_cast<size_t>(std::min(rows, step)) * row_bytes);
    std::vector<uint8_t> scales(static_cast<size_t>(std::min(rows, step)) * sb_row), biases(scales.size());
    QuantizeOptions qo{.spec = t.spec, .method = opt_.method, .scale_dtype = dt,
                       .importance = importance.empty() ? nullptr : importance.data()};
    for (int64_t r = 0; r < rows; r += step) {
      check_cancel();
      const int64_t n = std::min(step, rows - r);
      read_rows(v, r, n, cols, dt, buf.data());
      for (int64_t i = 0; i < n * cols; ++i)
        if (!std::isfinite(buf[i]))
          fail(*v.file, ": tensor '", v.name, "' has a non-finite value (NaN or Inf) in row ", r + i / cols);
      if (gptq.cols) gptq_quantize_rows(buf.data(), n, cols, gptq, qo, packed.data(), scales.data(), biases.data());
      else quantize_rows(buf.data(), n, cols, qo, packed.data(), scales.data(), biases.data());
      check_scales_finite(v, dt, scales.data(), biases.data(), static_cast<size_t>(n) * (cols / g));
      ww->write(iw, r * row_bytes, packed.data(), n * row_bytes);
      ws->write(is, r * sb_row, scales.data(), n * sb_row);
      wb->write(ib, r * sb_row, biases.data(), n * sb_row);
    }
  }

  const ConvertOptions& opt_;
  const ModelConfig& cfg_;
  const TensorStore& store_;
  ConvertPlan& plan_;
  fs::path tmp_;
  std::vector<ShardWriter> shards_;
  std::map<std::string, size_t> where_;
  std::map<std::string, ActivationStats> calib_;  // module -> input statistics
};

json read_json(const fs::path& p) {
  std::ifstream in(p);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(p.string(), ": not a valid JSON object");
  return j;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  if (!out) fail(p.string(), ": write failed");
}

json quant_json(const QuantSpec& s) {
  return {{"group_size", s.group_size}, {"bits", s.bits}, {"mode", "affine"}};
}

// Removes temporary folders that a killed conversion of the same output left behind.
void remove_stale_partials(const fs::path& out) {
  const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  const std::string prefix = "." + out.filename().string() + ".partial-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const int pid = std::atoi(name.c_str() + prefix.size());
    if (pid > 0 && ::kill(pid, 0) == 0) continue;  // another conversion is still running
    fs::remove_all(e.path(), ec);
  }
}

}  // namespace

ConvertReport convert_checkpoint(const ConvertOptions& opt) {
  Timer timer;
  ConvertReport report;
  const fs::path src(opt.hf_path), out(opt.out_path);
  if (opt.out_path.empty()) fail("--out: an output folder is required");
  if (fs::exists(out) && !opt.force) fail(out.string(), ": already exists (use --force to replace it)");
  if (fs::exists(out) && fs::equivalent(src, out)) fail("--out: must differ from the source folder");
  if (opt.bits > 0 && opt.group_size != 32 && opt.group_size != 64 && opt.group_size != 128)
    fail("--group-size: ", opt.group_size, " is not supported (32, 64 or 128)");

  ModelConfig cfg = load_model_config(opt.hf_path);
  if (cfg.quantization) fail(opt.hf_path, "/config.json: the model is already quantized");
  TensorStore store(opt.hf_path);
  ConvertPlan plan = make_plan(cfg, store, opt);
  for (const PlannedTensor& t : plan.tensors)
    if (opt.bits > 0 && !t.quantize && !t.module.empty() && t.source->shape.size() == 2) ++report.modules_kept_float;
  report.tensors_in = static_cast<int>(plan.tensors.size());
  if (opt.bits > 0 && std::none_of(plan.tensors.begin(), plan.tensors.end(), [](const PlannedTensor& t) { return t.quantize; }))
    fail("--group-size: ", opt.group_size, " divides the input size of no linear layer; nothing would be quantized");

  remove_stale_partials(out);
  const fs::path tmp = (out.parent_path().empty() ? fs::path(".") : out.parent_path()) /
                       ("." + out.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  try {
    Converter conv(opt, cfg, store, plan, tmp);
    if (!opt.calib_path.empty()) {
      if (opt.method == QuantMethod::Rtn) fail("--calib: needs --method search (rtn ignores importance)");
      conv.set_calibration(collect_activation_stats(CalibrationOptions{
          .model_dir = opt.hf_path, .text_path = opt.calib_path, .max_tokens = opt.calib_tokens,
          .progress = opt.progress}));
    }
    conv.run(report);

    json config = read_json(src / "config.json");
    config.erase("_name_or_path");
    config.erase("quantization_config");
    const std::string dtype_name_str = plan.float_dtype == DType::BF16 ? "bfloat16"
                                       : plan.float_dtype == DType::F16 ? "float16" : "float32";
    if (config.contains("dtype")) config["dtype"] = dtype_name_str;
    else config["torch_dtype"] = dtype_name_str;
    if (opt.bits > 0) {
      json q = quant_json(QuantSpec{.bits = opt.bits, .group_size = opt.group_size});
      for (const auto& [module, spec] : plan.overrides) q[module] = quant_json(spec);
      config["quantization"] = q;
      config["quantization_config"] = q;
    }
    write_text(tmp / "config.json", config.dump(4));
    json index = {{"metadata", {{"total_size", plan.total_bytes}, {"total_parameters", plan.total_parameters}}},
                  {"weight_map", conv.weight_map()}};
    write_text(tmp / "model.safetensors.index.json", index.dump(4));

    // Tokenizer, chat template, generation config and the like travel with the model.
    for (const auto& e : fs::directory_iterator(src)) {
      const std::string name = e.path().filename().string();
      if (!e.is_regular_file() || name == "config.json" || name == "model.safetensors.index.json" ||
          name.find(".safetensors") != std::string::npos || name.find(".bin") != std::string::npos ||
          name.find(".pth") != std::string::npos)
        continue;
      fs::copy_file(e.path(), tmp / name, fs::copy_options::overwrite_existing);
    }
    if (opt.cancel && opt.cancel->load()) fail("interrupted; no output was written");
    if (fs::exists(out)) fs::remove_all(out);  // --force: replace only after success
    fs::rename(tmp, out);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  report.bytes_written = plan.total_bytes;
  report.seconds = timer.seconds();
  return report;
}

}  // namespace qlm
