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

// One generated sequence's text as it streams, for everything that shows or watches it
// (generate, serve, rollout): stop ids dropped, special tokens skipped, incomplete UTF-8 and
// possible stop-string starts held back, cut before the first stop string. Fed token by token
// (a stop string split across tokens is met as it completes), so the engine can end the
// sequence on the token that completes it.
class StopStringWatch {
 public:
  StopStringWatch(const Tokenizer& tokenizer, const std::vector<std::string>& stops, const std::vector<int>& stop_ids);
  // The text id adds that may be shown now ("" for a stop id, a held-back piece, or once stopped).
  std::string push(int id);
  std::string finish();  // the held-back tail when generation ends ("" after a stop string)
  bool stopped() const { return filter_.stopped(); }
  const std::string& matched() const { return filter_.matched(); }

 private:
  StreamDecoder decoder_;
  StopStringFilter filter_;
  std::vector<int> stop_ids_;
};

// The text a StopStringWatch fed `ids` one by one gives (what `generate --stop` prints).
std::string text_before_stop(const Tokenizer& tokenizer, std::span<const int> ids, const std::vector<std::string>& stops,
                             const std::vector<int>& stop_ids);

}  // namespace qlm
