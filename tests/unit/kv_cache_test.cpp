// KVCache in F32 and F16: known IEEE half encodings (round to nearest even, saturation instead
// of infinity), positions and layers where they belong, forks, sizes, and the dtype spellings.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "base/error.h"
#include "base/memory_stats.h"
#include "model/kv_cache.h"

namespace qlm {
namespace {

ModelConfig tiny() {
  ModelConfig c;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 4;
  return c;
}

TEST(KVCache, F16StoresTheNearestHalfAndSaturates) {
  KVCache cache(tiny(), 3, KvDtype::f16);
  ASSERT_EQ(tiny().kv_dim(), 8);
  // 1 + 2^-11 is the midpoint of 1 and 1 + 2^-10: ties go to the even one (1.0 = 0x3c00);
  // 1 + 3·2^-11 goes up to 1 + 2^-9 (0x3c02). 65504 is the largest half (0x7bff).
  const float k[8] = {1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11), -2.0f, 65504.0f,
                      1e6f, -1e9f, 0.0f, std::ldexp(1.0f, -24)};
  const float v[8] = {0.5f, -0.25f, 3.0f, 1e-8f, 100.0f, -100.0f, 1.0f / 3, 7.0f};
  cache.store(1, 2, k, v);
  const uint16_t want_k[8] = {0x3c00, 0x3c02, 0xc000, 0x7bff, 0x7bff, 0xfbff, 0x0000, 0x0001};
  const uint16_t want_v[8] = {0x3800, 0xb400, 0x4200, 0x0000, 0x5640, 0xd640, 0x3555, 0x4700};
  // K: [layer][pos / 16][kv_dim][16] (capacity 3 rounds up to one block); V: [layer][pos][kv_dim].
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(cache.k_blocks_f16(1)[i * 16 + 2], want_k[i]) << i;
    EXPECT_EQ(cache.v_f16(1, 2)[i], want_v[i]) << i;
    EXPECT_EQ(cache.k_value(1, 2, i), f16_to_float(want_k[i])) << i;
  }
  EXPECT_EQ(cache.k_blocks(1), nullptr);  // an F16 cache has no F32 rows
  EXPECT_EQ(cache.v(1, 2), nullptr);
  EXPECT_EQ(cache.k_blocks_f16(1) - cache.k_blocks_f16(0), 16 * 8);
  EXPECT_EQ(cache.v_f16(1, 2) - cache.v_f16(0, 0), (1 * 3 + 2) * 8);
  EXPECT_EQ(cache.bytes(), (2u * 16 * 8 + 2u * 3 * 8) * 2);
}

TEST(KVCache, KeepsValuesAndForksCopyThePrefix) {
  for (KvDtype d : {KvDtype::f32, KvDtype::f16}) {
    KVCache a(tiny(), 40, d), b(tiny(), 50, d);  // different capacities: different strides
    std::vector<float> k(8), v(8);
    for (int l = 0; l < 2; ++l)
      for (int p = 0; p < 35; ++p) {
        for (int i = 0; i < 8; ++i) {
          k[i] = float(100 * l + 10 * p + i);
          v[i] = -k[i];
        }
        a.store(l, p, k.data(), v.data());
      }
    b.copy_prefix_from(a, 33);  // two full K blocks and one position of the third
    EXPECT_EQ(b.size(), 33);
    for (int l = 0; l < 2; ++l)
      for (int p = 0; p < 33; ++p)
        for (int i = 0; i < 8; ++i) {
          const float want = float(100 * l + 10 * p + i);  // small integers: exact in F16 too
          EXPECT_EQ(b.k_value(l, p, i), want);
          EXPECT_EQ(b.v_value(l, p, i), -want);
        }
  }
}

TEST(KVCache, HoldsMemoryOnlyForStoredPositions) {
  // A cache sized for a long completion must not take its full size before tokens exist
  // (rollouts size each sample's cache for max_tokens; most stop early). Oracle: VmRSS.
  ModelConfig c = tiny();
  c.num_layers = 24;
  c.num_kv_heads = 2;
  c.head_dim = 64;  // Qwen2.5-0.5B's K/V shape: 24.6 KB per position in F32
  const uint64_t before = current_rss_bytes();
  if (before == 0) GTEST_SKIP() << "no /proc/self/status here";
  KVCache cache(c, 25000, KvDtype::f32);  // 614 MB of capacity
  std::vector<float> k(c.kv_dim(), 1.0f), v(c.kv_dim(), 2.0f);
  for (int l = 0; l < c.num_layers; ++l)
    for (int p = 0; p < 100; ++p) cache.store(l, p, k.data(), v.data());
  const uint64_t grown = current_rss_bytes() - before;
  EXPECT_GT(cache.bytes(), 580u << 20);
  EXPECT_LT(grown, 32u << 20) << "RSS grew by " << (grown >> 20) << " MB for 100 positions";
  EXPECT_EQ(cache.k_value(23, 99, 5), 1.0f);
  EXPECT_EQ(cache.v_value(0, 0, 127), 2.0f);
}

TEST(KVCache, DtypeSpellings) {
  EXPECT_EQ(parse_kv_dtype("f16", "x"), KvDtype::f16);
  EXPECT_EQ(parse_kv_dtype("float16", "x"), KvDtype::f16);
  EXPECT_EQ(parse_kv_dtype("auto", "x"), KvDtype::f32);
  EXPECT_EQ(parse_kv_dtype("f32", "x"), KvDtype::f32);
  try {
    parse_kv_dtype("fp8", "--kv-cache-dtype");
    FAIL() << "fp8 accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--kv-cache-dtype: unknown KV cache dtype 'fp8' (expected f32 or f16)");
  }
}

}  // namespace
}  // namespace qlm
