// Teacher-forced scoring: the log-probability of each token given the tokens before it.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "runtime/token_ids.h"

namespace qlm {

// Returns ids.size() - 1 values: out[i] = log p(ids[i + 1] | ids[0..i]).
// Runs the prompt in chunks of `chunk` tokens (bounds the [chunk][vocab] logits buffer).
std::vector<double> score_tokens(const Transformer& model, std::span<const int> ids, int chunk = 64);

// Batched teacher forcing: for each (prompt, completion) pair, log p(completion[i] | prompt,
// completion[..i]) for every completion token. Tokens of many pairs share each forward
// (up to max_rows rows); results do not depend on the grouping (row-independent kernels).
// Pairs with the same prompt prefill it once and continue from its KV cache. progress, when
// set, is called after every forward with the rows run so far and the rows to run in all.
// done, when set, is called once per pair as soon as its log-probs are complete (pairs finish
// out of order: a shared prompt's pairs run right after it), so a caller can stream results.
using ScoreProgress = std::function<void(int64_t rows_done, int64_t rows_total)>;
using ScoreDone = std::function<void(size_t pair, const std::vector<double>& logprobs)>;
std::vector<std::vector<double>> score_completions(const Transformer& model,
                                                   const std::vector<std::vector<int>>& prompts,
                                                   const std::vector<std::vector<int>>& completions,
                                                   int max_rows = 64, const ScoreProgress& progress = {},
                                                   const ScoreDone& done = {});

// log-softmax of logits[n] at index `target`, computed in double.
double log_prob_of(const float* logits, int n, int target);

}  // namespace qlm
