// KVCache in F32 and F16: known IEEE half encodings (round to nearest even, saturation instead
// of infinity), positions and layers where they belong, forks, sizes, and the dtype spellings.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
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
  // One span of 16 positions (capacity 3 rounded up to a K block), each head's part a run:
  // [layer]{K [head][1][head_dim][16], V [head][16][head_dim]}.
  for (int i = 0; i < 8; ++i) {
    const int g = i / 4, d = i % 4;
    EXPECT_EQ(cache.k_head_f16(1, g)[d * 16 + 2], want_k[i]) << i;
    EXPECT_EQ(cache.v_head_f16(1, g)[2 * 4 + d], want_v[i]) << i;
    EXPECT_EQ(cache.k_value(1, 2, i), f16_to_float(want_k[i])) << i;
    EXPECT_EQ(cache.v_value(1, 2, i), f16_to_float(want_v[i])) << i;
  }
  EXPECT_EQ(cache.k_head(1, 0), nullptr);  // an F16 cache has no F32 rows
  EXPECT_EQ(cache.v_head(1, 0), nullptr);
  EXPECT_EQ(cache.k_head_f16(1, 0) - cache.k_head_f16(0, 0), 2 * 16 * 8);  // layer 0's K and V
  EXPECT_EQ(cache.k_head_f16(1, 1) - cache.k_head_f16(1, 0), 16 * 4);      // head 0's K block
  EXPECT_EQ(cache.v_head_f16(1, 0) - cache.k_head_f16(1, 0), 16 * 8);      // after both heads' K
  EXPECT_EQ(cache.v_head_f16(1, 1) - cache.v_head_f16(1, 0), 16 * 4);
  EXPECT_EQ(cache.span_stride(), 2 * 2 * 16 * 8);  // both layers
  EXPECT_EQ(cache.k_block_stride(), 16 * 4);
  EXPECT_EQ(cache.v_row_stride(), 4);
  EXPECT_EQ(cache.bytes(), 2u * 2 * 16 * 8 * 2);
}

TEST(KVCache, LongCachesComeInSpansOf256Positions) {
  // Known offsets: span s of layer l starts at (s * layers + l) * 2 * 256 * kv_dim: the K blocks
  // of head 0 then head 1, then the 256 V rows of head 0 then head 1.
  KVCache cache(tiny(), 600, KvDtype::f32);  // 3 spans
  std::vector<float> k(8), v(8);
  for (int l = 0; l < 2; ++l)
    for (int p = 0; p < 600; ++p) {
      for (int i = 0; i < 8; ++i) k[i] = float(1000 * p + 10 * l + i), v[i] = -k[i];
      cache.store(l, p, k.data(), v.data());
    }
  const float* base = cache.k_head(0, 0);
  const int64_t span = 2 * 256 * 8, head = 256 * 4;  // a layer's part of a span; a head's K
  EXPECT_EQ(cache.span_stride(), 2 * span);
  EXPECT_EQ(cache.k_block_stride(), 16 * 4);
  EXPECT_EQ(cache.k_head(1, 0) - base, span);
  EXPECT_EQ(cache.k_head(1, 1) - base, span + head);
  EXPECT_EQ(cache.v_head(1, 1) - base, span + 3 * head);
  // Position 517, layer 1, dimension 7 (head 1, d 3) = span 2, row 5: K block 0 of that span,
  // lane 5; V row 5.
  const int64_t at = 2 * 2 * span + span;
  EXPECT_EQ(base[at + head + 3 * 16 + 5], float(1000 * 517 + 10 + 7));
  EXPECT_EQ(base[at + 3 * head + 5 * 4 + 3], -float(1000 * 517 + 10 + 7));
  EXPECT_EQ(cache.k_value(1, 517, 3), float(1000 * 517 + 10 + 3));
  EXPECT_EQ(cache.bytes(), 3u * 2 * span * 4);
  EXPECT_EQ(KVCache::bytes_for(tiny(), 600, KvDtype::f32), cache.bytes());
  // A fork into a cache of another capacity (one short span) keeps every value.
  KVCache fork(tiny(), 100, KvDtype::f32);
  fork.copy_prefix_from(cache, 99);
  for (int l = 0; l < 2; ++l)
    for (int p = 0; p < 99; p += 7) EXPECT_EQ(fork.v_value(l, p, 6), -float(1000 * p + 10 * l + 6)) << p;
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

TEST(KVCache, ForksShareThePromptsWholeSpans) {
  // A fork of 600 prompt positions shares spans 0 and 1 (positions 0-511) with the prompt,
  // copies 512-599 and holds its own memory from position 512 on; short prompts (one span of
  // their own length) share nothing.
  for (KvDtype d : {KvDtype::f32, KvDtype::f16}) {
    auto prompt = std::make_shared<KVCache>(tiny(), 601, d);
    std::vector<float> k(8), v(8);
    auto fill = [&](KVCache& c, int from, int to, int salt) {
      for (int l = 0; l < 2; ++l)
        for (int p = from; p < to; ++p) {
          for (int i = 0; i < 8; ++i) k[i] = float(salt + (10 * p + i) % 1000 + l), v[i] = -k[i];
          c.store(l, p, k.data(), v.data());
        }
      c.set_size(to);
    };
    fill(*prompt, 0, 600, 0);
    KVCache fork(prompt, 600, 900);
    EXPECT_EQ(fork.size(), 600);
    EXPECT_EQ(fork.first_position(), 512);
    EXPECT_EQ(fork.prompt(), prompt.get());
    EXPECT_EQ(fork.bytes(), KVCache::bytes_for(tiny(), 900, d, 512));
    EXPECT_EQ(fork.bytes() + 2 * KVCache::bytes_for(tiny(), 256, d), KVCache::bytes_for(tiny(), 900, d));
    fill(fork, 600, 700, 1000);  // the sample's own tokens, in its own memory
    for (int l = 0; l < 2; ++l)
      for (int p = 0; p < 700; p += 3)
        for (int i = 0; i < 8; i += 7) {
          const float want = float((p < 600 ? 0 : 1000) + (10 * p + i) % 1000 + l);  // exact in F16 (< 2048)
          ASSERT_EQ(fork.k_value(l, p, i), want) << p;
          ASSERT_EQ(fork.v_value(l, p, i), -want) << p;
          if (p < 600) {
            ASSERT_EQ(prompt->k_value(l, p, i), want) << p;  // the prompt unchanged
          }
        }
    // Attention sees the prompt's spans through the prefix pointers, the rest in the fork.
    AttentionHead a;
    fork.attend_to(a, 1, 1);
    EXPECT_EQ(a.prefix_keys, 512);
    for (int dim = 0; dim < 4; ++dim) {  // head 1: dimensions 4-7 of kv_dim
      if (d == KvDtype::f32) {  // key 5 (lane 5 of the prompt's first block), key 512 (lane 0)
        EXPECT_EQ(a.prefix_k[dim * 16 + 5], fork.k_value(1, 5, 4 + dim));
        EXPECT_EQ(a.k[dim * 16], fork.k_value(1, 512, 4 + dim));
        EXPECT_EQ(a.v[a.v_stride * 3 + dim], fork.v_value(1, 515, 4 + dim));
      } else {
        EXPECT_EQ(f16_to_float(a.prefix_v_f16[a.v_stride * 7 + dim]), fork.v_value(1, 7, 4 + dim));
        EXPECT_EQ(f16_to_float(a.k_f16[dim * 16 + 1]), fork.k_value(1, 513, 4 + dim));
      }
    }
    EXPECT_THROW(fork.set_size(500), Error);  // rewinding into shared positions
    auto short_prompt = std::make_shared<KVCache>(tiny(), 201, d);
    fill(*short_prompt, 0, 200, 0);
    KVCache copy(short_prompt, 200, 300);
    EXPECT_EQ(copy.first_position(), 0);
    EXPECT_EQ(copy.prompt(), nullptr);
    EXPECT_EQ(copy.k_value(1, 199, 7), float((1990 + 7) % 1000 + 1));
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
