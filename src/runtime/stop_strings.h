// Stop strings on streamed text: text is released only once it cannot be the start of a stop
// string, and the stop string itself is never released.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace qlm {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // Adds decoded text; returns what may be shown now. After a stop string, stopped() is true
  // and everything from the stop string on is dropped.
  std::string push(const std::string& text);
  std::string flush();  // the held-back tail at the end of generation (no stop string seen)
  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }  // the stop string met ("" if none)

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
  std::string matched_;
};

// One generated sequence's text as it streams: stop ids dropped, special tokens skipped, cut
// before the first stop string. Fed token by token (a stop string split across tokens is met
// as it completes), so the engine can end the sequence on the token that completes it.
class StopStringWatch {
 public:
  StopStringWatch(const Tokenizer& tokenizer, const std::vector<std::string>& stops, const std::vector<int>& stop_ids);
  bool push(int id);  // true once a stop string has appeared; later ids are ignored
  bool stopped() const { return filter_.stopped(); }
  const std::string& matched() const { return filter_.matched(); }
  std::string finish();  // all the text (what is held back included when no stop string came)

 private:
  StreamDecoder decoder_;
  StopStringFilter filter_;
  std::vector<int> stop_ids_;
  std::string text_;
};

// The text a StopStringWatch fed `ids` one by one gives (what `generate --stop` prints).
std::string text_before_stop(const Tokenizer& tokenizer, std::span<const int> ids, const std::vector<std::string>& stops,
                             const std::vector<int>& stop_ids);

}  // namespace qlm
