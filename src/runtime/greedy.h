// Greedy (argmax) generation for one sequence: the deterministic baseline the sampler and
// batched engine are checked against.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "model/transformer.h"

namespace qlm {

struct GreedyParams {
  int max_new_tokens = 32;
  std::vector<int> stop_ids;  // generation ends after emitting one of these
  int prefill_chunk = 256;
};

// Returns the new token ids (not the prompt). on_token, if set, sees each id as it is made.
std::vector<int> generate_greedy(const Transformer& model, std::span<const int> prompt,
                                 const GreedyParams& params,
                                 const std::function<void(int)>& on_token = {});

int argmax(const float* x, int n);  // first index of the maximum

}  // namespace qlm
