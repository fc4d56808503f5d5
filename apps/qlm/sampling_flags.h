// The sampling flags shared by generate, rollout and chat.
#pragma once

#include <CLI/CLI.hpp>

#include "sampler/sampler.h"

namespace qlm::cli {

void add_sampling_flags(CLI::App* cmd, SamplingParams& p);

}  // namespace qlm::cli
