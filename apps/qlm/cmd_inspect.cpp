// qlm inspect: is the model really quantized, how big is it, is anything off.
#include <cstdio>
#include <iostream>
#include <memory>

#include "base/error.h"
#include "commands.h"
#include "output_file.h"
#include "convert/inspect.h"
#include "model/weights.h"
#include "io/tensor_store.h"

namespace qlm::cli {

namespace {
struct InspectFlags {
  std::string dir, dequantize, out;
  bool tensors = false, json = false, no_scan = false;
};

// Writes module's dequantized F32 weight as .npy (for tests and debugging).
void dump_dequantized(const std::string& dir, const std::string& module, const std::string& out) {
  if (out.empty()) fail("--dequantize needs --out FILE.npy");
  OutputFile f(out, "--out");  // a bad path fails now; the file appears only when whole
  ModelConfig cfg = load_model_config(dir);
  TensorStore store(dir);
  const TensorView* w = store.find(module + ".weight");
  if (w == nullptr || w->shape.size() != 2) fail(dir, ": no 2-D module '", module, "'");
  int64_t rows = w->shape[0];
  int64_t cols = w->shape[1];
  if (const TensorView* s = store.find(module + ".scales"); s && s->shape.size() == 2) {
    const int g = cfg.quantization ? cfg.quantization->defaults.group_size : 64;
    cols = s->shape[1] * (cfg.quantization && cfg.quantization->overrides.count(module) &&
                                  cfg.quantization->overrides.at(module)
                              ? cfg.quantization->overrides.at(module)->group_size
                              : g);
  }
  WeightMatrix m = load_matrix(store, cfg, module, rows, cols);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  const uint16_t hlen = static_cast<uint16_t>(header.size());
  f.write("\x93NUMPY\x01\x00", 8);
  f.write(&hlen, 2);
  f.write(header);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(m, r, row.data());
    f.write(row.data(), static_cast<size_t>(cols) * sizeof(float));
  }
  f.commit();
}

int run_inspect(const InspectFlags& f) {
  if (!f.dequantize.empty()) {
    dump_dequantized(f.dir, f.dequantize, f.out);
    return 0;
  }
  auto report = inspect_model(f.dir, InspectOptions{.per_tensor = f.tensors, .scan_values = !f.no_scan});
  if (f.json) std::cout << report.dump(2) << std::endl;
  else std::cout << render_inspect_text(report);
  return report["verdict"] == "ok" ? 0 : 2;
}
}  // namespace

void add_inspect(CLI::App& app) {
  auto f = std::make_shared<InspectFlags>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Describe a model folder and check it: format, bits/weight, size vs expected, verdict (exit 2 if problems)");
  cmd->add_option("dir", f->dir, "Model folder")->required();
  cmd->add_flag("--tensors", f->tensors, "List every tensor (name, dtype, shape, size)");
  cmd->add_flag("--json", f->json, "Machine-readable report");
  cmd->add_flag("--no-scan", f->no_scan, "Skip reading every value for the NaN/Inf check (faster on big models)");
  cmd->add_option("--dequantize", f->dequantize, "Write this module's dequantized weight (F32) to --out as .npy");
  cmd->add_option("--out", f->out, "Output file for --dequantize");
  cmd->callback([f] {
    int rc = run_inspect(*f);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace qlm::cli
