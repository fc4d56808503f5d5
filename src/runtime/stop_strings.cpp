// Stop-string filtering.
#include "runtime/stop_strings.h"

#include <algorithm>

namespace qlm {

std::string StopStringFilter::push(const std::string& text) {
  if (stopped_) return "";
  held_ += text;
  size_t first = std::string::npos;
  for (const std::string& s : stops_) {
    if (s.empty()) continue;
    size_t p = held_.find(s);
    if (p != std::string::npos && p < first) {
      first = p;
      matched_ = s;
    }
  }
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t keep = 0;
  for (const std::string& s : stops_)
    for (size_t n = std::min(s.size() - (s.empty() ? 0 : 1), held_.size()); n > keep; --n)
      if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopStringFilter::flush() {
  std::string out;
  if (!stopped_) out.swap(held_);
  return out;
}

StopStringWatch::StopStringWatch(const Tokenizer& tokenizer, const std::vector<std::string>& stops,
                                 const std::vector<int>& stop_ids)
    : decoder_(tokenizer, /*skip_special=*/true), filter_(stops), stop_ids_(stop_ids) {}

std::string StopStringWatch::push(int id) {
  if (stopped() || std::find(stop_ids_.begin(), stop_ids_.end(), id) != stop_ids_.end()) return "";
  return filter_.push(decoder_.push(id));
}

std::string StopStringWatch::finish() {
  return stopped() ? "" : filter_.push(decoder_.flush()) + filter_.flush();
}

std::string text_before_stop(const Tokenizer& tokenizer, std::span<const int> ids, const std::vector<std::string>& stops,
                             const std::vector<int>& stop_ids) {
  StopStringWatch watch(tokenizer, stops, stop_ids);
  std::string text;
  for (int id : ids) {
    text += watch.push(id);
    if (watch.stopped()) break;
  }
  return text + watch.finish();
}

}  // namespace qlm
