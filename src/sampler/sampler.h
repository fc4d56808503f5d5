// The per-sequence sampler: penalties -> temperature -> top-k -> top-p -> min-p -> draw,
// with a greedy fast path, a seeded platform-independent RNG and raw/processed log-probs.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sampler/rng.h"

namespace qlm {

struct Nucleus;

struct SamplingParams {
  float temperature = 0.0f;         // 0 (or < 1e-5) = greedy: argmax, no RNG draw
  int top_k = 0;                    // 0 = off
  float top_p = 1.0f;               // 1 = off; in (0, 1]
  float min_p = 0.0f;               // 0 = off; in [0, 1)
  float repetition_penalty = 1.0f;  // HF/CTRL: l > 0 ? l / r : l * r, tokens of prompt + output
  float presence_penalty = 0.0f;    // OpenAI: l -= presence * (count > 0), output tokens only
  float frequency_penalty = 0.0f;   // OpenAI: l -= frequency * count, output tokens only
  uint64_t seed = 0;
  // Log-probs cost one exp per vocabulary entry; plain generation may switch them off
  // (then TokenChoice's log-probs are NaN and `top` stays empty).
  bool logprobs = true;
};

// Throws qlm::Error naming the CLI flag, e.g. "--top-p: 1.5 is not in (0, 1]".
void validate(const SamplingParams& params);

struct TokenChoice {
  int id = -1;
  float logprob_raw = 0.0f;        // log softmax(original logits)[id], T = 1, no penalties/filters
  float logprob_processed = 0.0f;  // log-prob under the distribution actually sampled from
  std::vector<std::pair<int, float>> top;  // top_n (id, raw log-prob), best first
};

// A token with its penalised logit: the sampler's candidate scratch entry.
struct ScoredToken {
  float value;
  int id;
};

// One per sequence; single-threaded. A sampler holds only its sequence's state (RNG, the ids
// seen and their counts); the vocabulary-sized scratch of a draw is per thread and shared by
// every sampler on that thread (12 bytes per vocabulary entry once per thread, not 28 per
// sequence: 64 sequences of a 152k vocabulary held 270 MB of it).
//
// Semantics (the Python reference scripts/sampler_reference.py is the executable spec):
// - Penalties, in this order, on the tokens concerned only: repetition (every token seen in
//   prompt or output), then frequency, then presence (output tokens only, as OpenAI/vLLM).
// - Greedy (temperature < 1e-5): argmax of the penalised logits, ties -> lowest id; filters are
//   ignored (the argmax survives all of them) and no random number is drawn.
//   logprob_processed = log softmax(penalised logits, T = 1)[id].
// - Sampling: s = penalised / T; candidates are ordered by (penalised logit desc, id asc),
//   the order of s for any T > 0; top-k keeps the first k; top-p keeps the shortest prefix
//   whose probability (renormalised over the top-k set) reaches top_p; min-p keeps tokens
//   with p >= min_p * p_max; the kept set is renormalised and drawn from. One uniform draw
//   per sampled token (exactly one, whatever the distribution, so streams stay aligned).
//   logprob_processed = log of the renormalised probability of id over the kept set.
// - Numerics: weights exp(s - s_max) in float (a vectorised exp within 1.2e-7 relative),
//   sums in double in a fixed order; log-probs agree with the float64 reference to 1e-5.
//   Same seed + same logits -> the same ids and log-probs, bit for bit. Logits must not be
//   NaN; -inf entries are never chosen.
// - Allocation: none per call once a thread's scratch exists, except TokenChoice::top when
//   top_n > 0 and the amortised growth of the seen-id list.
// - sample() records the chosen token itself (as if accept(id) were called); accept() is
//   for tokens that did not come from sample() (forced or teacher-forced ones).
class Sampler {
 public:
  Sampler(const SamplingParams& params, int vocab_size, std::span<const int> prompt_ids);

  // logits: [vocab_size] F32, used as scratch. On return it holds the penalised logits
  // (before temperature). top_n > 0 also returns the top_n raw alternatives.
  TokenChoice sample(float* logits, int top_n = 0);

  // Records a generated token for the penalties.
  void accept(int id);

  const SamplingParams& params() const { return params_; }
  uint64_t rng_draws() const { return rng_draws_; }  // for tests: greedy must draw none

 private:
  struct Stats;  // log-sum-exp and argmax results of the fused pass

  void count(int id, bool generated);
  bool penalties_active() const;
  bool dense_at_t1() const;
  Stats penalise_and_scan(float* logits, int top_n);
  // The vocabulary-sized buffers of one draw; only the entries a draw writes are read.
  struct Scratch {
    std::vector<float> weight;            // [vocab] exp(s - s_max); only candidates are written
    std::vector<double> block_sum;        // dense and nucleus draws: weight sums per kWeightBlock ids
    std::vector<ScoredToken> candidates;  // [vocab] (penalised logit, id) for the sorted paths
  };
  static Scratch& thread_scratch(int vocab_size);  // this thread's, grown to vocab_size

  int draw_sorted(Scratch& s, const float* logits, float max_pen, bool top_k_done, float* logprob_processed);
  // Returns the weights' total (their sum relative to the best token's weight 1).
  double draw_dense(Scratch& s, const float* logits, float max_pen, int* id, float* logprob_processed);
  int draw_kept(const Scratch& s, const float* logits, int kept, float t, float s_max, float* logprob_processed);
  int walk_blocks(const Scratch& s, float floor, double u) const;
  int draw_nucleus(Scratch& s, const float* logits, const Nucleus& nucleus, float t, float s_max,
                   float* logprob_processed);

  SamplingParams params_;
  int vocab_size_;
  Xoshiro256 rng_;
  uint64_t rng_draws_ = 0;

  std::vector<int> seen_;                // distinct ids of prompt + output, in first-seen order
  std::unordered_map<int, int> seen_at_;  // id -> its index in seen_
  std::vector<int> seen_out_;            // [seen_.size()] occurrences in the output
  std::vector<float> seen_raw_;          // [seen_.size()] original logits saved during sample()
  std::vector<float> seen_pen_;          // [seen_.size()] their penalised values
  std::vector<ScoredToken> top_heap_;    // [top_n] best raw logits (min-heap scratch)
};

}  // namespace qlm
