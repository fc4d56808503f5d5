// qlm convert: Hugging Face checkpoint -> MLX-layout q4/q8/... or BF16/F16 folder.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "base/error.h"
#include "commands.h"
#include "convert/convert.h"

namespace qlm::cli {

namespace {
std::atomic<bool> g_cancel{false};
extern "C" void on_signal(int) { g_cancel.store(true); }

struct ConvertFlags {
  std::string hf_path, out, quantize = "q4", method = "search", recipe, dtype, calib;
  int calib_tokens = 16384;
  int group_size = 64;
  bool force = false, quiet = false, no_importance = false;
};

void run_convert(const ConvertFlags& f) {
  ConvertOptions o;
  o.hf_path = f.hf_path;
  o.out_path = f.out;
  parse_quantize_flag(f.quantize, &o.bits, &o.float_dtype);
  o.group_size = f.group_size;
  o.method = parse_quant_method(f.method);
  o.recipe = f.recipe;
  if (!f.dtype.empty()) {
    int unused_bits;
    parse_quantize_flag(f.dtype, &unused_bits, &o.float_dtype);
    if (unused_bits != 0) fail("--dtype: '", f.dtype, "' is not a float type (bf16, f16, f32)");
  }
  o.force = f.force;
  o.progress = !f.quiet;
  o.importance = !f.no_importance;
  o.calib_path = f.calib;
  o.calib_tokens = f.calib_tokens;
  o.cancel = &g_cancel;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  ConvertReport r = convert_checkpoint(o);
  std::fprintf(stderr, "qlm: wrote %s: %d tensors (%d modules quantized%s), %.1f MB in %d file(s), %.1f s\n",
               f.out.c_str(), r.tensors_in, r.modules_quantized,
               r.modules_kept_float ? qlm::cat(", ", r.modules_kept_float, " kept float: rows not a multiple of the group size").c_str() : "",
               r.bytes_written / 1e6, r.files, r.seconds);
}
}  // namespace

void add_convert(CLI::App& app) {
  auto f = std::make_shared<ConvertFlags>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Convert a Hugging Face checkpoint to the MLX quantized layout (q4/q8) or BF16/F16");
  cmd->add_option("--hf-path", f->hf_path, "Source Hugging Face model folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out,--mlx-path,-o", f->out, "Output folder (must not exist unless --force)")->required();
  cmd->add_option("-q,--quantize", f->quantize,
                  "q4, q8 (also q2 q3 q5 q6; seed spellings q4_bit, q8_bit) or bf16, f16 for no quantization")
      ->capture_default_str();
  cmd->add_option("--group-size", f->group_size, "Inputs per scale/bias group: 32, 64 or 128")->capture_default_str();
  cmd->add_option("--method", f->method,
                  "rtn: MLX's round-to-nearest (bit-exact with mlx_lm.convert); "
                  "search: error-minimising scale/bias per group, same format")
      ->capture_default_str();
  cmd->add_option("--recipe", f->recipe, "Mixed precision, e.g. mixed_4_6 (per-module overrides MLX reads)");
  cmd->add_option("--dtype", f->dtype, "Float type of scales, biases and unquantized tensors (default: source's bf16/f16, else bf16)");
  cmd->add_flag("--force", f->force, "Replace an existing output folder (only after the new one is complete)");
  cmd->add_option("--calib", f->calib,
                  "Calibration text: weigh quantization error by real activation statistics (search)");
  cmd->add_option("--calib-tokens", f->calib_tokens, "Tokens of calibration text to use")->capture_default_str();
  cmd->add_flag("--no-importance", f->no_importance,
                "search: plain MSE per group, without the data-free activation-importance weights");
  cmd->add_flag("--quiet", f->quiet, "No progress line");
  cmd->callback([f] { run_convert(*f); });
}

}  // namespace qlm::cli
