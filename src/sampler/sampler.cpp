// Sampler: token counts, sparse penalties, the fused single pass over the vocabulary
// (argmax + log-sum-exp + top-n), and the greedy / sampling dispatch.
#include "sampler/sampler.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "base/error.h"
#include "sampler/scored.h"
#include "sampler/vocab_scan.h"

namespace qlm {

// Results of penalise_and_scan(): log-sum-exp of the raw and of the penalised logits, and
// the penalised argmax (ties -> lowest id).
struct Sampler::Stats {
  double lse_raw = 0.0;
  double lse_pen = 0.0;
  float max_pen = 0.0f;
  int argmax_pen = -1;
};

Sampler::Sampler(const SamplingParams& params, int vocab_size, std::span<const int> prompt_ids)
    : params_(params), vocab_size_(vocab_size), rng_(params.seed) {
  validate(params);
  if (vocab_size <= 0) fail("sampler: vocab_size must be > 0 (got ", vocab_size, ")");
  top_heap_.reserve(64);  // OpenAI allows at most 20 top log-probs
  for (int id : prompt_ids) count(id, /*generated=*/false);
}

Sampler::Scratch& Sampler::thread_scratch(int vocab_size) {
  thread_local Scratch s;  // samplers run on many threads at once
  const size_t n = static_cast<size_t>(vocab_size);
  if (s.weight.size() < n) {
    s.weight.resize(n);
    s.candidates.resize(n);
    s.block_sum.resize((n + kWeightBlock - 1) / kWeightBlock);
  }
  return s;
}

void Sampler::count(int id, bool generated) {
  if (id < 0 || id >= vocab_size_)
    fail("sampler: token id ", id, " is outside the vocabulary [0, ", vocab_size_, ")");
  const auto [it, added] = seen_at_.try_emplace(id, static_cast<int>(seen_.size()));
  if (added) {
    seen_.push_back(id);
    seen_out_.push_back(0);
    seen_raw_.push_back(0.0f);
    seen_pen_.push_back(0.0f);
  }
  if (generated) ++seen_out_[it->second];
}

void Sampler::accept(int id) {
  count(id, /*generated=*/true);
}

bool Sampler::penalties_active() const {
  return params_.repetition_penalty != 1.0f || params_.presence_penalty != 0.0f ||
         params_.frequency_penalty != 0.0f;
}

// Plain sampling at temperature 1 without penalties or min-p (the RL default): the draw's
// weights exp(logit - max) are the raw distribution's terms, so one exponential pass serves
// both the draw and the raw log-sum-exp.
bool Sampler::dense_at_t1() const {
  const SamplingParams& p = params_;
  return p.temperature == 1.0f && !penalties_active() && p.min_p == 0.0f && p.top_p >= 1.0f &&
         (p.top_k <= 0 || p.top_k >= vocab_size_);
}

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Below this temperature sampling is greedy (as vLLM): logits / T would overflow, and the
// distribution is a point mass up to rounding anyway.
constexpr float kGreedyBelow = 1e-5f;

// Folds (m2, s2) into the running log-sum-exp pair (m, s) where the sum is sum exp(x - m).
void merge_lse(double& m, double& s, double m2, double s2) {
  if (s2 == 0.0) return;
  if (m2 > m) {
    s = s * std::exp(m - m2) + s2;
    m = m2;
  } else {
    s += s2 * std::exp(m2 - m);
  }
}

}  // namespace

// Penalties touch only the seen tokens: their original logits are saved and masked to -inf
// for the one dense pass, then merged back, so the pass serves raw and penalised stats.
Sampler::Stats Sampler::penalise_and_scan(float* logits, int top_n) {
  const SamplingParams& p = params_;
  const int n_seen = penalties_active() ? int(seen_.size()) : 0;
  for (int j = 0; j < n_seen; ++j) {
    const int id = seen_[j];
    const float x = logits[id];
    float y = x;
    if (p.repetition_penalty != 1.0f)
      y = y > 0.0f ? y / p.repetition_penalty : y * p.repetition_penalty;
    const int c = seen_out_[j];
    if (c > 0) {  // same order as vLLM: frequency, then presence
      y -= p.frequency_penalty * float(c);
      y -= p.presence_penalty;
    }
    seen_raw_[j] = x;
    seen_pen_[j] = y;
    logits[id] = kNegInf;
  }

  // At temperature 1 the dense draw's weights are these exponentials: it sums them there.
  const bool want_sum = p.logprobs && !dense_at_t1();
  const bool want_heap = p.logprobs && top_n > 0;
  top_heap_.clear();
  const VocabScan scan =
      scan_vocab(logits, vocab_size_, want_sum, &top_heap_, want_heap ? top_n : 0);
  const float m_u = scan.max;
  const int a_u = scan.argmax;
  const double s_u = scan.sum;

  Stats st;
  double m_raw = m_u, s_raw = a_u >= 0 ? s_u : 0.0;
  double m_pen = m_raw, s_pen = s_raw;
  Scored best{m_u, a_u};
  for (int j = 0; j < n_seen; ++j) {
    const int id = seen_[j];
    logits[id] = seen_pen_[j];
    if (best.id < 0 || better(Scored{seen_pen_[j], id}, best)) best = Scored{seen_pen_[j], id};
    if (want_sum) {
      if (seen_raw_[j] != kNegInf) merge_lse(m_raw, s_raw, seen_raw_[j], 1.0);
      if (seen_pen_[j] != kNegInf) merge_lse(m_pen, s_pen, seen_pen_[j], 1.0);
    }
  }
  if (best.id < 0 || best.value == kNegInf || std::isnan(best.value))
    fail("sampler: every logit is -inf or NaN");
  st.argmax_pen = best.id;
  st.max_pen = best.value;
  st.lse_raw = m_raw + std::log(s_raw);
  st.lse_pen = m_pen + std::log(s_pen);

  if (want_heap) {
    // Seen tokens were masked during the pass: drop them and offer their raw logits instead.
    std::erase_if(top_heap_, [&](const Scored& c) { return n_seen > 0 && seen_at_.contains(c.id); });
    for (int j = 0; j < n_seen; ++j) top_heap_.push_back(Scored{seen_raw_[j], seen_[j]});
    std::sort(top_heap_.begin(), top_heap_.end(), better);
    if (int(top_heap_.size()) > top_n) top_heap_.resize(top_n);
  }
  return st;
}

TokenChoice Sampler::sample(float* logits, int top_n) {
  const SamplingParams& p = params_;
  Stats st = penalise_and_scan(logits, top_n);
  Scratch& s = thread_scratch(vocab_size_);
  TokenChoice choice;
  float processed = 0.0f;
  if (p.temperature < kGreedyBelow) {
    choice.id = st.argmax_pen;
    processed = float(double(st.max_pen) - st.lse_pen);
  } else if (p.top_k > 0 && p.top_k < vocab_size_) {
    select_top_k(logits, vocab_size_, p.top_k, s.candidates.data());
    choice.id = draw_sorted(s, logits, st.max_pen, /*top_k_done=*/true, &processed);
  } else if (p.top_p < 1.0f) {
    choice.id = draw_sorted(s, logits, st.max_pen, /*top_k_done=*/false, &processed);
  } else {
    const double z = draw_dense(s, logits, st.max_pen, &choice.id, &processed);
    if (dense_at_t1()) st.lse_raw = st.lse_pen = double(st.max_pen) + std::log(z);
  }

  if (p.logprobs) {
    float raw = logits[choice.id];
    if (penalties_active())
      if (const auto it = seen_at_.find(choice.id); it != seen_at_.end()) raw = seen_raw_[it->second];
    choice.logprob_raw = float(double(raw) - st.lse_raw);
    choice.logprob_processed = processed;
    choice.top.reserve(top_heap_.size());
    for (const Scored& c : top_heap_)
      choice.top.emplace_back(c.id, float(double(c.value) - st.lse_raw));
  } else {
    choice.logprob_raw = choice.logprob_processed = std::numeric_limits<float>::quiet_NaN();
  }
  accept(choice.id);
  return choice;
}

}  // namespace qlm
