// Decode attention over a whole model's KV cache, as one decode step runs it: every layer and KV
// head of a KVCache (Qwen2.5-0.5B's shape: 24 layers, 2 KV heads, group 7, head_dim 64) at
// `depth` positions, one thread. The cache (50 MB in F32 at 2048 positions) is larger than the
// last-level cache share, so K and V stream from memory as they do in the model; this is where
// the cache's layout and page size show, which BM_Attend's cache-resident K/V do not.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernel_table.h"
#include "model/kv_cache.h"

namespace qlm {
namespace {

void BM_DecodeAttention(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  const KvDtype dtype = state.range(1) != 0 ? KvDtype::f16 : KvDtype::f32;
  ModelConfig cfg;
  cfg.num_layers = 24;
  cfg.num_heads = 14;
  cfg.num_kv_heads = 2;
  cfg.head_dim = 64;
  const int group = cfg.num_heads / cfg.num_kv_heads, hd = cfg.head_dim;
  KVCache cache(cfg, depth + 64, dtype);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> k(cfg.kv_dim()), v(cfg.kv_dim());
  for (int p = 0; p < depth; ++p)
    for (int l = 0; l < cfg.num_layers; ++l) {
      for (float& x : k) x = 2 * nd(rng);
      for (float& x : v) x = nd(rng);
      cache.store(l, p, k.data(), v.data());
    }
  std::vector<float> q(static_cast<size_t>(cfg.num_heads) * hd), out(q.size());
  for (float& x : q) x = nd(rng);
  std::vector<float> scores(attention_scratch_floats(group, depth));
  const KernelTable& kt = kernels();
  for (auto _ : state) {
    for (int l = 0; l < cfg.num_layers; ++l)
      for (int g = 0; g < cfg.num_kv_heads; ++g) {
        AttentionHead a;
        a.q = q.data() + g * group * hd;
        cache.attend_to(a, l, g);
        a.n_keys = depth;
        a.group = group;
        a.head_dim = hd;
        a.scale = 1.0f / std::sqrt(float(hd));
        a.out = out.data() + g * group * hd;
        a.scores = scores.data();
        kt.attend(a);
      }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(double(cache.bytes()) * depth / (depth + 64) * state.iterations(),
                                              benchmark::Counter::kIsRate);
  state.SetLabel(kt.isa + (dtype == KvDtype::f16 ? " f16" : " f32"));
}

BENCHMARK(BM_DecodeAttention)->ArgsProduct({{512, 2048, 8192}, {0, 1}})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace qlm
