// PrefixCache bookkeeping: the longest match wins and never reaches past the limit, a longer
// entry replaces the ones it extends, the least recently used goes first when memory runs out,
// and the entry count is bounded.
#include "runtime/prefix_cache.h"

#include <gtest/gtest.h>

#include <numeric>

namespace qlm {
namespace {

ModelConfig tiny_config() {
  ModelConfig cfg;
  cfg.num_layers = 2;
  cfg.num_kv_heads = 1;
  cfg.head_dim = 8;
  return cfg;
}

std::vector<int> seq(int first, int n) {
  std::vector<int> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}

std::shared_ptr<const KVCache> cache_of(const ModelConfig& cfg, int n) {
  auto c = std::make_shared<KVCache>(cfg, n);
  c->set_size(n);
  return c;
}

TEST(PrefixCache, LongestMatchWithinTheLimit) {
  const ModelConfig cfg = tiny_config();
  PrefixCache pc(cfg, 1e9);
  pc.insert(seq(0, 10), cache_of(cfg, 10), 10);
  std::vector<int> other = seq(0, 4);
  other.push_back(99);
  pc.insert(other, cache_of(cfg, 5), 5);
  EXPECT_EQ(pc.size(), 2u);
  std::vector<int> asked = seq(0, 7);
  asked.push_back(-1);
  PrefixCache::Hit h = pc.lookup(asked, 7);
  EXPECT_EQ(h.positions, 7);                    // the 10-token entry, cut at the common prefix
  EXPECT_EQ(pc.lookup(asked, 3).positions, 3);  // never past the limit
  EXPECT_EQ(pc.lookup({5, 6, 7}, 2).positions, 0);
  EXPECT_EQ(pc.lookup({5, 6, 7}, 2).cache, nullptr);
  EXPECT_EQ(pc.longest_match(seq(0, 20)), 10);
}

TEST(PrefixCache, ExtensionsReplaceAndCoveredOnesAreSkipped) {
  const ModelConfig cfg = tiny_config();
  PrefixCache pc(cfg, 1e9);
  pc.insert(seq(0, 6), cache_of(cfg, 6), 6);
  pc.insert(seq(0, 12), cache_of(cfg, 12), 12);  // extends the first: replaces it
  EXPECT_EQ(pc.size(), 1u);
  EXPECT_EQ(pc.bytes(), double(KVCache::bytes_for(cfg, 12, KvDtype::f32)));
  pc.insert(seq(0, 9), cache_of(cfg, 9), 9);  // already covered
  EXPECT_EQ(pc.size(), 1u);
  // Only `positions` of the ids count: an entry made from 20 ids with 15 positions.
  pc.insert(seq(0, 20), cache_of(cfg, 15), 15);
  EXPECT_EQ(pc.size(), 1u);
  EXPECT_EQ(pc.longest_match(seq(0, 20)), 15);
}

TEST(PrefixCache, LeastRecentlyUsedGoesFirstAndTheCountIsBounded) {
  const ModelConfig cfg = tiny_config();
  const double one = double(KVCache::bytes_for(cfg, 16, KvDtype::f32));
  PrefixCache pc(cfg, 2.5 * one);  // room for two
  pc.insert(seq(0, 16), cache_of(cfg, 16), 16);
  pc.insert(seq(100, 16), cache_of(cfg, 16), 16);
  EXPECT_EQ(pc.lookup(seq(0, 16), 15).positions, 15);  // the first is now the most recent
  pc.insert(seq(200, 16), cache_of(cfg, 16), 16);      // the second goes
  EXPECT_EQ(pc.size(), 2u);
  EXPECT_EQ(pc.longest_match(seq(100, 16)), 0);
  EXPECT_EQ(pc.longest_match(seq(0, 16)), 16);
  pc.shrink_to(one);  // what an admission needing the memory does
  EXPECT_EQ(pc.size(), 1u);
  EXPECT_EQ(pc.longest_match(seq(200, 16)), 16);
  pc.clear();
  EXPECT_EQ(pc.size(), 0u);
  EXPECT_EQ(pc.bytes(), 0.0);

  PrefixCache many(cfg, 1e12);
  for (int i = 0; i < int(PrefixCache::kMaxEntries) + 10; ++i)
    many.insert({i, i + 1}, cache_of(cfg, 2), 2);
  EXPECT_EQ(many.size(), PrefixCache::kMaxEntries);
  EXPECT_EQ(many.longest_match({9, 10}), 0);  // the ten oldest went
  EXPECT_EQ(many.longest_match({10, 11}), 2);
  PrefixCache off(cfg, 0);
  off.insert(seq(0, 4), cache_of(cfg, 4), 4);
  EXPECT_EQ(off.size(), 0u);
}

}  // namespace
}  // namespace qlm
