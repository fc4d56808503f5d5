// Speed measurements for `qlm bench`: prefill throughput, time to first token, and decode
// throughput at a given context depth, on random token ids (speed does not depend on them).
#pragma once

#include <cstdint>

#include "model/transformer.h"

namespace qlm {

struct SpeedSample {
  double prefill_tok_per_s = 0;
  double ttft_seconds = 0;       // prefill of the prompt + choosing the first token
  double decode_tok_per_s = 0;
};

// Prefill `prompt_tokens` random ids; then, separately, fill the cache to `depth` tokens
// (untimed) and time `gen_tokens` greedy decode steps. seed fixes the random ids.
SpeedSample measure_speed(const Transformer& model, int prompt_tokens, int gen_tokens, int depth, uint64_t seed);

// Aggregate decode tok/s of `batch` sequences in lock-step (one forward_batch per step, the
// weights read once for all rows): a shared prompt of max(depth, 1) random ids is prefilled
// once and forked into every sequence's cache; each sequence then starts from its own random
// token and decodes `gen_tokens` greedy steps. Returns batch * gen_tokens / seconds.
double measure_batched_decode(const Transformer& model, int batch, int gen_tokens, int depth, uint64_t seed);

// Bytes a decode step reads at context `depth`: all weight matrices once plus the K/V cache.
double decode_bytes_per_token(const Transformer& model, int depth);

}  // namespace qlm
