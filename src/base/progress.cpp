// Progress line rendering.
#include "base/progress.h"

#include <unistd.h>

#include <cstdio>

namespace qlm {

Progress::Progress(std::string label, double total, double unit_scale, std::string unit_name)
    : label_(std::move(label)), unit_name_(std::move(unit_name)), total_(total), scale_(unit_scale),
      tty_(::isatty(STDERR_FILENO) != 0) {}

void Progress::update(double done, const std::string& note) {
  done_ = done;
  const double t = timer_.seconds();
  if (tty_) {
    if (t - last_draw_ < 0.1) return;
    last_draw_ = t;
    draw(false, note);
  } else {
    const int decile = total_ > 0 ? static_cast<int>(10 * done / total_) : 0;
    if (decile == last_decile_) return;
    last_decile_ = decile;
    draw(false, note);
  }
}

void Progress::finish(const std::string& note) {
  done_ = total_;
  draw(true, note);
}

void Progress::draw(bool final_line, const std::string& note) {
  const double t = timer_.seconds();
  const double pct = total_ > 0 ? 100.0 * done_ / total_ : 100.0;
  const double rate = t > 0 ? done_ / scale_ / t : 0.0;
  const double left = done_ > 0 ? t * (total_ - done_) / done_ : 0.0;
  char buf[256];
  // Counts in their own units (tokens, completions) are whole: no decimals for them.
  const int digits = scale_ == 1.0 ? 0 : 1;
  std::snprintf(buf, sizeof buf, "%s %5.1f%%  %.*f/%.*f %s  %.1f %s/s  %s %.0fs", label_.c_str(), pct, digits,
                done_ / scale_, digits, total_ / scale_, unit_name_.c_str(), rate, unit_name_.c_str(),
                final_line ? "took" : "left", final_line ? t : left);
  std::fprintf(stderr, tty_ ? "\r\033[K%s%s%s" : "%s%s%s\n", buf, note.empty() ? "" : "  ", note.c_str());
  if (tty_ && final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace qlm
