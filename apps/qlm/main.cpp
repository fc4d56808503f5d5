// qlm: command-line entry point. Every error reaches the user as one line and exit status 1.
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "base/cpu_info.h"
#include "base/error.h"
#include "commands.h"
#include "config_file.h"
#include "model/kv_cache.h"

int main(int argc, char** argv) {
  CLI::App app{"qlm: fast quantized LLM inference on CPUs (Qwen2, Llama; MLX q4/q8 layout)"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  app.set_version_flag("--version", "qlm 0.1.0");
  // OMP_NUM_THREADS, when set, is the default (the OpenMP runtime has already read it);
  // otherwise one thread per physical core.
  const char* omp_env = std::getenv("OMP_NUM_THREADS");
  int threads = omp_env != nullptr && *omp_env ? omp_get_max_threads() : qlm::physical_cores();
  omp_set_num_threads(threads);
  // each() runs as soon as the flag is parsed, before any subcommand's callback.
  app.add_option("--threads", threads, "Worker threads (default: OMP_NUM_THREADS if set, else the physical cores)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str()
      ->each([](const std::string& v) { omp_set_num_threads(std::stoi(v)); });
  std::string kv_dtype = "f32";
  app.add_option(
         "--kv-cache-dtype", kv_dtype,
         "Element type of the KV cache: f32 (exact, the default) or f16 (half the memory and the "
         "attention reads at long context; K/V rounded once when stored)")
      ->capture_default_str()
      ->each([](const std::string& v) {
        qlm::set_default_kv_dtype(qlm::parse_kv_dtype(v, "--kv-cache-dtype"));
      });
  std::string config_help;
  app.add_option("--config", config_help,
                 "YAML file of options (keys as flags with '_', or the training config's hardware/max_tokens/"
                 "temperature/top_k/top_p/num_samples_per_prompt); command-line flags win");
  qlm::cli::add_generate(app);
  qlm::cli::add_score(app);
  qlm::cli::add_convert(app);
  qlm::cli::add_inspect(app);
  qlm::cli::add_perplexity(app);
  qlm::cli::add_tokenize(app);
  qlm::cli::add_preload(app);
  qlm::cli::add_chat(app);
  qlm::cli::add_bench(app);
  qlm::cli::add_rollout(app);
  qlm::cli::add_serve(app);
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    args = qlm::cli::apply_config_file(app, std::move(args));
    // CLI11 wants them reversed when given as a vector.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qlm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
