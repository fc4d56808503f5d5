// qlm: command-line entry point. Every error reaches the user as one line and exit status 1.
#include <omp.h>

#include <cstdio>
#include <exception>

#include "base/error.h"
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"qlm: fast quantized LLM inference on CPUs (Qwen2, Llama; MLX q4/q8 layout)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "qlm 0.1.0");
  qlm::cli::add_generate(app);
  qlm::cli::add_score(app);
  qlm::cli::add_convert(app);
  qlm::cli::add_inspect(app);
  qlm::cli::add_perplexity(app);
  qlm::cli::add_tokenize(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const qlm::Error& e) {
    std::fprintf(stderr, "qlm: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qlm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
