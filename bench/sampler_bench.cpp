// Sampler::sample over a Qwen2.5-sized vocabulary (151,936): the per-token cost a batched
// rollout step pays once per sequence. Logits are normal with a chosen spread: 1 is flat (a
// random-weight model, or a high temperature: top-p 0.95 keeps most of the vocabulary), 8 is
// peaked like a trained model's (the nucleus is a handful of tokens).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "sampler/sampler.h"

namespace qlm {
namespace {

constexpr int kVocab = 151936;

std::vector<float> normal_logits(float spread) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, spread);
  std::vector<float> x(kVocab);
  for (float& v : x) v = nd(rng);
  return x;
}

// range(0): logit spread; range(1): 0 = temperature only, 1 = top-p 0.95, 2 = top-k 50,
// 3 = top-k 50 + top-p 0.95, 4 = min-p 0.05.
void BM_Sample(benchmark::State& state) {
  const std::vector<float> logits = normal_logits(static_cast<float>(state.range(0)));
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 1;
  const char* names[] = {"T=1", "top-p 0.95", "top-k 50", "top-k 50 + top-p 0.95", "min-p 0.05"};
  switch (state.range(1)) {
    case 1: p.top_p = 0.95f; break;
    case 2: p.top_k = 50; break;
    case 3: p.top_k = 50, p.top_p = 0.95f; break;
    case 4: p.min_p = 0.05f; break;
    default: break;
  }
  Sampler sampler(p, kVocab, {});
  std::vector<float> scratch(kVocab);
  for (auto _ : state) {
    scratch = logits;  // sample() edits its logits
    benchmark::DoNotOptimize(sampler.sample(scratch.data()).id);
  }
  state.SetLabel(std::string(names[state.range(1)]) + ", spread " + std::to_string(state.range(0)));
}

BENCHMARK(BM_Sample)->ArgsProduct({{1, 8}, {0, 1, 2, 3, 4}})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace qlm
