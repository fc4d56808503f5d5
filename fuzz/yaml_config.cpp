// Fuzz target: the --config YAML file, applied to a CLI shaped like qlm's (global --threads,
// generate and rollout with their sampling flags), then parsed by CLI11 as main() does. Byte 0
// picks the command line the file is applied to; the rest is the YAML text.
#include <CLI/CLI.hpp>

#include "config_file.h"
#include "fuzz_util.h"

namespace {
struct Flags {
  std::string model, quant;
  int max_tokens = 0, top_k = 0, samples = 0, threads = 1;
  float temp = 0, top_p = 1;
  long long seed = 0;
  std::vector<std::string> stop;
  bool resume = false;
};

void add_command(CLI::App& app, const char* name, Flags& f) {
  CLI::App* cmd = app.add_subcommand(name);
  cmd->add_option("-m,--model", f.model);
  cmd->add_option("--expect-quantization", f.quant);
  cmd->add_option("--max-tokens", f.max_tokens)->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--temp", f.temp);
  cmd->add_option("--top-k", f.top_k);
  cmd->add_option("--top-p", f.top_p);
  cmd->add_option("--seed", f.seed);
  cmd->add_option("--samples-per-prompt,-n", f.samples);
  cmd->add_option("--stop", f.stop);
  cmd->add_flag("--resume", f.resume);
}

const std::vector<std::vector<std::string>> kCommandLines = {{"rollout", "-m", "model"},
                                                             {"generate", "--temp", "0.5"},
                                                             {"generate", "--threads=2"},
                                                             {},
                                                             {"rollout", "--resume"}};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::vector<std::string>& args = kCommandLines[data[0] % kCommandLines.size()];
  const std::string yaml(reinterpret_cast<const char*>(data + 1), size - 1);
  Flags f;
  CLI::App app{"qlm"};
  app.fallthrough();
  app.add_option("--threads", f.threads)->check(CLI::Range(1, 1024));
  add_command(app, "generate", f);
  add_command(app, "rollout", f);
  qlm::fuzz::expect_clean([&] {
    std::vector<std::string> out =
        qlm::cli::apply_config_text(app, args, yaml, "config.yaml", nullptr);
    std::vector<std::string> reversed(out.rbegin(), out.rend());
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError&) {  // main() prints these as usage errors
    }
  });
  return 0;
}
