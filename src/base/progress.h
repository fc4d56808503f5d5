// A progress line on stderr for long work: done/total, rate and time left. Redraws in place
// on a terminal (at most 10 times a second); elsewhere prints a line every 10%.
#pragma once

#include <cstdint>
#include <string>

#include "base/timer.h"

namespace qlm {

class Progress {
 public:
  // unit_scale/unit_name format the counts, e.g. 1e6 and "MB".
  Progress(std::string label, double total, double unit_scale = 1.0, std::string unit_name = "");
  void update(double done, const std::string& note = "");
  void set_total(double total) { total_ = total; }  // when the work turns out smaller
  void finish(const std::string& note = "");

 private:
  void draw(bool final_line, const std::string& note);
  std::string label_, unit_name_;
  double total_, scale_, done_ = 0;
  bool tty_;
  int last_decile_ = -1;
  double last_draw_ = -1;
  Timer timer_;
};

}  // namespace qlm
