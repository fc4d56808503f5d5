#include "runtime/prefix_cache.h"

#include <algorithm>

namespace qlm {

std::pair<size_t, size_t> PrefixCache::best_match(const std::vector<int>& ids, size_t limit) const {
  std::pair<size_t, size_t> best{entries_.size(), 0};
  for (size_t i = 0; i < entries_.size(); ++i) {
    const size_t m = common_prefix(ids, entries_[i].ids, limit);
    if (m > best.second) best = {i, m};
  }
  return best;
}

PrefixCache::Hit PrefixCache::lookup(const std::vector<int>& ids, int limit) {
  const auto [i, m] = best_match(ids, static_cast<size_t>(std::max(limit, 0)));
  if (i == entries_.size()) return Hit{};
  entries_[i].used = ++clock_;
  return Hit{entries_[i].cache, static_cast<int>(m)};
}

int PrefixCache::longest_match(const std::vector<int>& ids) const {
  return static_cast<int>(best_match(ids, SIZE_MAX).second);
}

void PrefixCache::insert(std::vector<int> ids, std::shared_ptr<const KVCache> cache,
                         int positions) {
  if (!enabled() || positions <= 0) return;
  ids.resize(static_cast<size_t>(positions));
  for (Entry& e : entries_)
    if (common_prefix(e.ids, ids) == ids.size()) {  // already held, as long or longer
      e.used = ++clock_;
      return;
    }
  for (size_t i = entries_.size(); i-- > 0;)
    if (common_prefix(entries_[i].ids, ids) == entries_[i].ids.size()) drop(i);  // extended
  const double bytes = static_cast<double>(KVCache::bytes_for(cfg_, positions, cache->dtype()));
  if (bytes > max_bytes_) return;
  entries_.push_back(Entry{std::move(ids), std::move(cache), bytes, ++clock_});
  bytes_ += bytes;
  shrink_to(max_bytes_);
  while (entries_.size() > kMaxEntries) shrink_to(bytes_ - 1);
}

void PrefixCache::shrink_to(double bytes) {
  while (!entries_.empty() && bytes_ > bytes) {
    size_t oldest = 0;
    for (size_t i = 1; i < entries_.size(); ++i)
      if (entries_[i].used < entries_[oldest].used) oldest = i;
    drop(oldest);
  }
}

void PrefixCache::drop(size_t i) {
  bytes_ -= entries_[i].bytes;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
  if (entries_.empty()) bytes_ = 0;  // no drift from float sums
}

}  // namespace qlm
