// Temporary conversions for bench --models-from-hf: mkdtemp under $TMPDIR, one sub-folder per
// format, signal handlers that only set a flag (the bench loop polls it and unwinds).
#include "bench_hf.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/error.h"
#include "convert/convert.h"

namespace qlm::cli {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_bench_signal(int) { g_interrupted.store(true); }
}  // namespace

bool bench_interrupted() { return g_interrupted.load(); }

TempConversions::TempConversions(const std::string& hf_dir, const std::vector<std::string>& formats,
                                 const std::string& method) {
  namespace fs = std::filesystem;
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/qlm-bench-XXXXXX";
  if (!mkdtemp(pattern.data())) fail("bench: cannot create a temporary folder at ", pattern);
  root_ = pattern;
  std::signal(SIGINT, on_bench_signal);
  std::signal(SIGTERM, on_bench_signal);
  try {
    for (const std::string& fmt : formats) {
      ConvertOptions o;
      o.hf_path = hf_dir;
      o.out_path = (fs::path(root_) / (fs::path(hf_dir).filename().string() + "-" + fmt)).string();
      if (o.out_path.back() == '-') o.out_path = (fs::path(root_) / fmt).string();
      parse_quantize_flag(fmt, &o.bits, &o.float_dtype);
      o.method = parse_quant_method(method);
      o.cancel = &g_interrupted;
      std::fprintf(stderr, "bench: converting %s to %s in %s\n", hf_dir.c_str(), fmt.c_str(), root_.c_str());
      convert_checkpoint(o);
      if (bench_interrupted()) fail("bench: interrupted");
      dirs_.push_back(o.out_path);
    }
  } catch (...) {
    std::error_code ec;
    fs::remove_all(root_, ec);  // the destructor does not run for a constructor that throws
    throw;
  }
}

TempConversions::~TempConversions() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
  std::fprintf(stderr, "bench: removed %s\n", root_.c_str());
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

}  // namespace qlm::cli
