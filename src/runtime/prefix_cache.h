// Cross-request prefix caching for the BatchEngine: the KV caches of prompts already prefilled
// (and of finished single-sample completions: prompt + reply, what the next turn of a chat
// resends) are kept, least recently used first out, so that a later prompt starting with the
// same tokens copies those positions instead of computing them again.
// Exactness: K and V at a position depend only on the tokens up to it (row-independent kernels,
// prefill chunks anywhere), and the copy is bit for bit, so a prompt that starts from a cached
// prefix gives the same tokens and log-probs as one prefilled from scratch.
// Engine-thread only (no locking).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "model/kv_cache.h"
#include "runtime/token_ids.h"

namespace qlm {

class PrefixCache {
 public:
  struct Hit {
    std::shared_ptr<const KVCache> cache;  // null when nothing matched
    int positions = 0;                     // its first `positions` positions are the prompt's
  };

  // Entries holding more than max_bytes (resident estimate, below) are dropped oldest first.
  PrefixCache(const ModelConfig& cfg, double max_bytes) : cfg_(cfg), max_bytes_(max_bytes) {}

  // The entry sharing the longest prefix with `ids`, at most `limit` positions of it (a prompt
  // must still run its last token for its logits). Marks it recently used.
  Hit lookup(const std::vector<int>& ids, int limit);
  // The longest prefix `ids` shares with any entry (no copy, no use mark).
  int longest_match(const std::vector<int>& ids) const;

  // Keeps `cache` (not a fork), whose first `positions` positions hold the K/V of
  // ids[0 .. positions) and are never written again (a single sample may still be appending
  // its reply after them). Entries it extends are dropped; if one already covers it, nothing
  // changes.
  void insert(std::vector<int> ids, std::shared_ptr<const KVCache> cache, int positions);

  // Drops least recently used entries until at most `bytes` are held.
  void shrink_to(double bytes);
  void clear() { entries_.clear(), bytes_ = 0; }
  double bytes() const { return bytes_; }
  size_t size() const { return entries_.size(); }
  bool enabled() const { return max_bytes_ > 0; }

  // At most this many entries (a lookup compares the prompt with each one).
  static constexpr size_t kMaxEntries = 256;

 private:
  struct Entry {
    std::vector<int> ids;  // exactly `positions` long
    std::shared_ptr<const KVCache> cache;
    double bytes = 0;  // memory of the stored positions: what the cache holds resident
    uint64_t used = 0;
  };
  void drop(size_t i);
  // Index of the entry sharing the longest prefix with ids (capped at limit) and that length;
  // (size(), 0) when none shares a token.
  std::pair<size_t, size_t> best_match(const std::vector<int>& ids, size_t limit) const;

  ModelConfig cfg_;  // a copy: the cache may outlive whatever config it was made from
  double max_bytes_;
  double bytes_ = 0;
  uint64_t clock_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace qlm
