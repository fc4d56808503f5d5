// Flag validators shared by several subcommands, with one-line messages that say what is wanted.
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <string>

namespace qlm::cli {

constexpr double kBytesPerGiB = 1073741824.0;

// A memory amount in GiB: a finite number >= 0 (0 = the command's automatic choice).
// zero_means: what 0 does ("automatic", "off"), for the message.
inline CLI::Validator gib_amount(const std::string& zero_means = "automatic") {
  return CLI::Validator(
      [zero_means](std::string& text) -> std::string {
        try {
          size_t used = 0;
          const double v = std::stod(text, &used);
          if (used == text.size() && std::isfinite(v) && v >= 0) return "";
        } catch (const std::exception&) {
        }
        return "expected GiB as a number >= 0 (0 = " + zero_means + "), got '" + text + "'";
      },
      "GIB");
}

}  // namespace qlm::cli
