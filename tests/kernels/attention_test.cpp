// KernelTable::attend and ::silu_mul on every ISA this machine runs, against the scalar
// reference, over odd key counts, GQA group sizes and head sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "base/half.h"
#include "kernels/kernel_table.h"
#include "test_isas.h"

namespace qlm {
namespace {

struct Case {
  int n_keys, group, head_dim, kv_heads;
};

std::vector<float> randn(size_t n, uint32_t seed, float sd) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// K and V in spans of kKvSpan positions as KVCache has them (one layer), but with the KV heads
// interleaved, so that every stride differs from what a contiguous head would give: each span
// K [span / 16][kv_dim][16] (blocks of 16 keys, dimension-major), V [span][kv_dim], then a gap
// of filler. Positions past the last key hold `filler` (NaN in the tests: attention must never
// use them).
constexpr int64_t kGapRows = 3;
template <class E>
std::vector<E> cache_spans(const Case& c, const E* keys, const E* values, E filler) {
  const int64_t kv_dim = int64_t(c.kv_heads) * c.head_dim, spans = (c.n_keys + kKvSpan - 1) / kKvSpan;
  std::vector<E> out(size_t(spans * (2 * kKvSpan + kGapRows) * kv_dim), filler);
  for (int p = 0; p < c.n_keys; ++p) {
    E* span = out.data() + p / kKvSpan * (2 * kKvSpan + kGapRows) * kv_dim;
    const int r = p % kKvSpan;
    for (int64_t i = 0; i < kv_dim; ++i) {
      span[r / 16 * 16 * kv_dim + i * 16 + r % 16] = keys[p * kv_dim + i];
      span[(kKvSpan + r) * kv_dim + i] = values[p * kv_dim + i];
    }
  }
  return out;
}

// Moves the first `spans` spans of a cache_spans buffer to a buffer of their own (a prompt's
// cache that forks share) and returns it; the first spans of `own` are refilled with filler.
template <class E>
std::vector<E> split_prefix(const Case& c, std::vector<E>& own, int spans, E filler) {
  const int64_t span = (2 * kKvSpan + kGapRows) * int64_t(c.kv_heads) * c.head_dim;
  std::vector<E> prefix(own.begin(), own.begin() + spans * span);
  std::fill(own.begin(), own.begin() + spans * span, filler);
  return prefix;
}

// Runs attend for KV head 1 (the second: exercises the strides) of a cache like KVCache, keys
// and values given as [pos][kv_heads * head_dim], in F32 (keys, values) or F16 (k16, v16 when
// given). With prefix_spans, the keys of the first spans come from a buffer of their own.
std::vector<float> run(const KernelTable& k, const Case& c, const std::vector<float>& q,
                       const std::vector<float>& keys, const std::vector<float>& values,
                       const uint16_t* k16 = nullptr, const uint16_t* v16 = nullptr,
                       int prefix_spans = 0) {
  std::vector<float> out(size_t(c.group) * c.head_dim, -1.0f);
  std::vector<float> scratch(size_t(attention_scratch_floats(c.group, c.n_keys)));
  const int64_t kv_dim = int64_t(c.kv_heads) * c.head_dim;
  const int64_t span = (2 * kKvSpan + kGapRows) * kv_dim, own = prefix_spans * span;
  std::vector<float> blocks, prefix;
  std::vector<uint16_t> blocks16, prefix16;
  AttentionHead a;
  a.q = q.data();
  a.prefix_keys = prefix_spans * kKvSpan;
  if (k16 != nullptr) {
    blocks16 = cache_spans<uint16_t>(c, k16, v16, 0x7e00);  // NaN
    prefix16 = split_prefix<uint16_t>(c, blocks16, prefix_spans, 0x7e00);
    a.k_f16 = blocks16.data() + own + c.head_dim * 16;
    a.v_f16 = blocks16.data() + own + kKvSpan * kv_dim + c.head_dim;
    a.prefix_k_f16 = prefix16.data() + c.head_dim * 16;
    a.prefix_v_f16 = prefix16.data() + kKvSpan * kv_dim + c.head_dim;
  } else {
    blocks = cache_spans<float>(c, keys.data(), values.data(), std::nanf(""));
    prefix = split_prefix<float>(c, blocks, prefix_spans, std::nanf(""));
    a.k = blocks.data() + own + c.head_dim * 16;
    a.v = blocks.data() + own + kKvSpan * kv_dim + c.head_dim;
    a.prefix_k = prefix.data() + c.head_dim * 16;
    a.prefix_v = prefix.data() + kKvSpan * kv_dim + c.head_dim;
  }
  a.k_block_stride = 16 * kv_dim;
  a.v_stride = kv_dim;
  a.span_stride = span;
  a.n_keys = c.n_keys;
  a.group = c.group;
  a.head_dim = c.head_dim;
  a.scale = 1.0f / std::sqrt(float(c.head_dim));
  a.out = out.data();
  a.scores = scratch.data();
  k.attend(a);
  return out;
}

class AttentionIsa : public ::testing::TestWithParam<std::string> {};

TEST_P(AttentionIsa, MatchesReferenceOnOddShapes) {
  const KernelTable& k = *kernel_table_for(GetParam());
  const std::vector<Case> cases = {
      {1, 7, 64, 2},   {3, 7, 64, 2},    {15, 1, 64, 2},  {16, 2, 64, 2},  {17, 6, 128, 2},
      {63, 7, 64, 2},  {65, 8, 128, 4},  {127, 9, 64, 2}, {300, 7, 64, 2}, {1025, 6, 128, 2},
      {2049, 7, 64, 2}, {33, 4, 32, 2},  {40, 3, 96, 2},  {19, 2, 80, 2},  {50, 16, 64, 2}};
  uint32_t seed = 1;
  for (const Case& c : cases) {
    const size_t kv = size_t(c.n_keys) * c.kv_heads * c.head_dim;
    // Scores of a few units (sd 2 keys · sd 1 queries / √d · √d): a peaked, realistic softmax.
    auto q = randn(size_t(c.group) * c.head_dim, seed++, 1.0f);
    auto keys = randn(kv, seed++, 2.0f);
    auto values = randn(kv, seed++, 1.0f);
    auto got = run(k, c, q, keys, values);
    auto want = run(*kernel_table_for("ref"), c, q, keys, values);
    // Outputs are convex combinations of values (|v| ≲ 5): float rounding of exp, sums and
    // the reduction order bound the difference far below 1e-5.
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - want[i])));
    EXPECT_LE(worst, 2e-5) << GetParam() << " keys=" << c.n_keys << " group=" << c.group << " hd=" << c.head_dim;
  }
}

TEST_P(AttentionIsa, OneKeyCopiesTheValue) {
  // Known value: with one key the softmax weight is exactly 1, so every head outputs v[0].
  const KernelTable& k = *kernel_table_for(GetParam());
  const Case c{1, 7, 64, 2};
  auto q = randn(size_t(c.group) * c.head_dim, 9, 1.0f);
  auto keys = randn(size_t(c.kv_heads) * c.head_dim, 10, 1.0f);
  auto values = randn(keys.size(), 11, 1.0f);
  auto got = run(k, c, q, keys, values);
  for (int h = 0; h < c.group; ++h)
    for (int i = 0; i < c.head_dim; ++i) EXPECT_FLOAT_EQ(got[h * c.head_dim + i], values[c.head_dim + i]);
}

// A query group and a cache's keys and values for case c (seeds from `seed` on), and the
// values' nearest halves for an F16 cache.
struct Inputs {
  std::vector<float> q, keys, values;
  std::vector<uint16_t> k16, v16;
};
Inputs random_inputs(const Case& c, uint32_t& seed) {
  const size_t kv = size_t(c.n_keys) * c.kv_heads * c.head_dim;
  Inputs in{randn(size_t(c.group) * c.head_dim, seed, 1.0f), randn(kv, seed + 1, 2.0f),
            randn(kv, seed + 2, 1.0f), std::vector<uint16_t>(kv), std::vector<uint16_t>(kv)};
  seed += 3;
  for (size_t i = 0; i < kv; ++i) {
    in.k16[i] = float_to_f16(in.keys[i]);
    in.v16[i] = float_to_f16(in.values[i]);
  }
  return in;
}

// An F16 cache must run the same arithmetic on its values widened to F32 (which is exact):
// bit-identical to the F32 path of the same table fed those widened values, for every shape.
void expect_f16_cache_is_f32_cache_of_its_values(const KernelTable& k) {
  const std::vector<Case> cases = {{1, 7, 64, 2},   {17, 6, 128, 2}, {63, 7, 64, 2},
                                   {300, 7, 64, 2}, {33, 4, 32, 2},  {19, 2, 80, 2},
                                   {2049, 7, 64, 2}};
  uint32_t seed = 100;
  for (const Case& c : cases) {
    auto [q, keys, values, k16, v16] = random_inputs(c, seed);
    for (size_t i = 0; i < k16.size(); ++i) {  // the F32 cache of the halves' exact values
      keys[i] = f16_to_float(k16[i]);
      values[i] = f16_to_float(v16[i]);
    }
    const auto want = run(k, c, q, keys, values);
    const auto got = run(k, c, q, {}, {}, k16.data(), v16.data());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(got[i], want[i]) << k.isa << " keys=" << c.n_keys << " hd=" << c.head_dim
                                 << " i=" << i;
  }
}

// A fork's keys before its first own span come from the prompt's cache: the same keys in the
// same order, so the same bits as one cache holding them all (F32 and F16), on every table.
void expect_shared_prefix_spans_change_nothing(const KernelTable& k) {
  const std::vector<std::pair<Case, int>> cases = {{{256, 7, 64, 2}, 1},  {{257, 7, 64, 2}, 1},
                                                   {{300, 6, 128, 2}, 1}, {{600, 7, 64, 2}, 2},
                                                   {{1025, 2, 64, 2}, 2}, {{513, 9, 32, 2}, 2}};
  uint32_t seed = 300;
  for (const auto& [c, spans] : cases) {
    const auto [q, keys, values, k16, v16] = random_inputs(c, seed);
    const auto want = run(k, c, q, keys, values), got = run(k, c, q, keys, values, nullptr, nullptr, spans);
    const auto want16 = run(k, c, q, {}, {}, k16.data(), v16.data());
    const auto got16 = run(k, c, q, {}, {}, k16.data(), v16.data(), spans);
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << k.isa << " keys=" << c.n_keys << " spans=" << spans << " i=" << i;
      ASSERT_EQ(got16[i], want16[i]) << k.isa << " F16 keys=" << c.n_keys << " spans=" << spans << " i=" << i;
    }
  }
}

TEST_P(AttentionIsa, SharedPrefixSpansChangeNothing) {
  expect_shared_prefix_spans_change_nothing(*kernel_table_for(GetParam()));
}

TEST(AttentionRef, SharedPrefixSpansChangeNothing) {
  expect_shared_prefix_spans_change_nothing(*kernel_table_for("ref"));
}

TEST_P(AttentionIsa, F16CacheIsTheF32CacheOfItsValues) {
  expect_f16_cache_is_f32_cache_of_its_values(*kernel_table_for(GetParam()));
}

TEST(AttentionRef, F16CacheIsTheF32CacheOfItsValues) {
  expect_f16_cache_is_f32_cache_of_its_values(*kernel_table_for("ref"));
}

TEST_P(AttentionIsa, SiluMatchesReferenceAndIgnoresWhereTheBufferEnds) {
  const KernelTable& k = *kernel_table_for(GetParam());
  auto gate = randn(4864 + 37, 21, 3.0f);
  gate[0] = -120.0f;  // far tails: exp under/overflow must give silu ≈ 0 and ≈ x
  gate[1] = 95.0f;
  auto up = randn(gate.size(), 22, 1.0f);
  auto got = gate, want = gate;
  k.silu_mul(got.data(), up.data(), int64_t(got.size()));
  kernel_table_for("ref")->silu_mul(want.data(), up.data(), int64_t(want.size()));
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 2e-6 * (1.0 + std::fabs(want[i]))) << GetParam() << " i=" << i;
  // Batch invariance: an element's value is the same whatever the length of the call.
  auto part = gate;
  k.silu_mul(part.data(), up.data(), 53);
  for (size_t i = 0; i < 53; ++i) ASSERT_EQ(part[i], got[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(Isas, AttentionIsa, ::testing::ValuesIn(available_isas()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(AttentionIsa);

}  // namespace
}  // namespace qlm
