// --config FILE.yaml for every command: YAML keys become flags, command-line flags win.
// Accepts the seed workflow's training-config keys (hardware.mlx_model_path,
// hardware.mlx_quantization, hardware.use_mlx_for_generation, max_tokens, temperature, top_k,
// top_p, num_samples_per_prompt) and qlm's own flag names with '_' for '-'.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

namespace qlm::cli {

// Returns args (without argv[0]) with "--config FILE" removed and, for every YAML key that
// maps to an option of the chosen subcommand the user did not give, that option inserted
// right after the subcommand name. Unknown keys warn on stderr, known keys the subcommand has
// no option for are named in one note there (a training config serves every command); wrong
// types throw Error naming the key.
std::vector<std::string> apply_config_file(CLI::App& app, std::vector<std::string> args);

// The same for YAML text already read (args without --config); `file` names it in errors,
// the warnings and the note go to `warnings` (none when null).
std::vector<std::string> apply_config_text(CLI::App& app, std::vector<std::string> args, const std::string& yaml,
                                           const std::string& file, FILE* warnings = stderr);

}  // namespace qlm::cli
