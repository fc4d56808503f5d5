// Each subcommand registers its flags and its run function on the CLI11 app (one file each).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace qlm::cli {

void add_generate(CLI::App& app);
void add_score(CLI::App& app);
void add_convert(CLI::App& app);
void add_inspect(CLI::App& app);
void add_perplexity(CLI::App& app);
void add_tokenize(CLI::App& app);
void add_preload(CLI::App& app);
void add_chat(CLI::App& app);
void add_bench(CLI::App& app);
void add_rollout(CLI::App& app);
void add_serve(CLI::App& app);

// "1,2,3" -> {1, 2, 3}; throws Error naming `flag` on anything else.
std::vector<int> parse_id_list(const std::string& text, const std::string& flag);

}  // namespace qlm::cli
