// Stop strings on streamed text: text is released only once it cannot be the start of a stop
// string, and the stop string itself is never released.
#pragma once

#include <string>
#include <vector>

namespace qlm {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // Adds decoded text; returns what may be shown now. After a stop string, stopped() is true
  // and everything from the stop string on is dropped.
  std::string push(const std::string& text);
  std::string flush();  // the held-back tail at the end of generation (no stop string seen)
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace qlm
