#include "runtime/prefix_cache.h"

#include <algorithm>

namespace qlm {

size_t common_prefix(const std::vector<int>& a, const std::vector<int>& b, size_t n) {
  n = std::min({n, a.size(), b.size()});
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

PrefixCache::Hit PrefixCache::lookup(const std::vector<int>& ids, int limit) {
  Hit hit;
  Entry* best = nullptr;
  for (Entry& e : entries_) {
    const int m =
        static_cast<int>(common_prefix(ids, e.ids, static_cast<size_t>(std::max(limit, 0))));
    if (m > hit.positions) hit = Hit{e.cache, m}, best = &e;
  }
  if (best != nullptr) best->used = ++clock_;
  return hit;
}

int PrefixCache::longest_match(const std::vector<int>& ids) const {
  size_t m = 0;
  for (const Entry& e : entries_) m = std::max(m, common_prefix(ids, e.ids));
  return static_cast<int>(m);
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
