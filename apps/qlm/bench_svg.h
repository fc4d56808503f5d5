// bench's chart: a self-contained SVG (no scripts, no external fonts or files) with one panel of
// horizontal bars per measure, plus the tiny SVG writer it is drawn with.
#pragma once

#include <string>
#include <vector>

namespace qlm::cli {

// Appends SVG elements to a string; escapes text; coordinates in user units (pixels).
class SvgWriter {
 public:
  SvgWriter(double width, double height);
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& extra = "");
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1);
  // anchor: "start", "middle" or "end".
  void text(double x, double y, const std::string& s, double size = 12, const std::string& anchor = "start",
            const std::string& extra = "");
  std::string finish() const;  // the whole document

 private:
  std::string body_;
  double width_, height_;
};

std::string xml_escape(const std::string& s);

struct ChartBar {
  std::string label;
  double value = 0, lo = 0, hi = 0;  // lo/hi: min-max whisker; both 0 = none
  bool missing = false;              // drawn as a note instead of a bar (e.g. the quality base)
  std::string note;
};

struct ChartPanel {
  std::string title, axis_label, value_format = "%.1f";
  std::vector<ChartBar> bars;
};

// The document: a title line, a subtitle (machine, settings), then the panels stacked.
std::string render_bench_svg(const std::string& title, const std::string& subtitle,
                             const std::vector<ChartPanel>& panels);

}  // namespace qlm::cli
