// KernelTable::attend for one query row and one KV head over n keys (GQA group 7; head_dim 64:
// Qwen2.5-0.5B, 128: Qwen2.5-7B), K and V each in one run (the kernel's addressing of
// KVCache's spans), F32 and F16. Reports GFLOP/s of the scores
// and the P·V products (4 · group · head_dim · n flops per call).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/half.h"
#include "kernels/kernel_table.h"

namespace qlm {
namespace {

void BM_Attend(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const bool f16 = state.range(1) != 0;
  const int head_dim = static_cast<int>(state.range(2));
  constexpr int kGroup = 7, kKvHeads = 2;
  const int64_t kv_dim = int64_t{kKvHeads} * head_dim;
  const int64_t blocks = (n + 15) / 16;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> q(kGroup * head_dim), k(blocks * 16 * kv_dim), v(int64_t{n} * kv_dim);
  for (float& x : q) x = nd(rng);
  for (float& x : k) x = 2 * nd(rng);
  for (float& x : v) x = nd(rng);
  std::vector<uint16_t> k16(k.size()), v16(v.size());
  for (size_t i = 0; i < k.size(); ++i) k16[i] = float_to_f16(k[i]);
  for (size_t i = 0; i < v.size(); ++i) v16[i] = float_to_f16(v[i]);
  std::vector<float> out(kGroup * head_dim), scores(attention_scratch_floats(kGroup, n));
  AttentionHead a;
  a.q = q.data();
  if (f16) {
    a.k_f16 = k16.data() + head_dim * 16;  // KV head 1
    a.v_f16 = v16.data() + head_dim;
  } else {
    a.k = k.data() + head_dim * 16;
    a.v = v.data() + head_dim;
  }
  a.k_block_stride = 16 * kv_dim;
  a.v_stride = kv_dim;
  a.span_stride = int64_t{kKvSpan} * kv_dim;  // K and V each in one run here (KVCache alternates them per span)
  a.n_keys = n;
  a.group = kGroup;
  a.head_dim = head_dim;
  a.scale = 1.0f / std::sqrt(float(head_dim));
  a.out = out.data();
  a.scores = scores.data();
  const KernelTable& kt = kernels();
  for (auto _ : state) {
    kt.attend(a);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(4.0 * kGroup * head_dim * n * state.iterations(),
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  state.SetLabel(kt.isa + (f16 ? " f16" : " f32"));
}

BENCHMARK(BM_Attend)->ArgsProduct({{64, 512, 2048}, {0, 1}, {64, 128}});

}  // namespace
}  // namespace qlm
