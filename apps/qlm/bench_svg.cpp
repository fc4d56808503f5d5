// The SVG writer and the bench chart layout: horizontal bars (long model names fit on the left),
// a nice-number axis per panel, the value printed at each bar's end, min-max whiskers.
#include "bench_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace qlm::cli {

namespace {
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Axis end and tick step: 1, 2 or 5 times a power of ten, about five ticks.
void nice_axis(double max_value, double* axis_max, double* step) {
  if (!(max_value > 0)) max_value = 1;
  const double raw = max_value / 5, p = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / p;
  *step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  *axis_max = std::ceil(max_value / *step) * *step;
}

std::string format_value(const std::string& fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt.c_str(), v);
  return buf;
}

std::string tick_label(double v, double step) {
  char buf[32];
  if (step >= 1) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::ceil(-std::log10(step))), v);
  return buf;
}

constexpr const char* kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948"};
constexpr double kWidth = 1000, kLabelW = 290, kPlotW = 440, kRowH = 26, kPanelHead = 34, kPanelFoot = 42;
constexpr size_t kSubtitleChars = 150;  // about the width at 11 px
}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters even escaped; drop them.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
    }
  }
  return out;
}

SvgWriter::SvgWriter(double width, double height) : width_(width), height_(height) {}

void SvgWriter::rect(double x, double y, double w, double h, const std::string& fill, const std::string& extra) {
  body_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(std::max(0.0, w)) + "\" height=\"" +
           num(h) + "\" fill=\"" + xml_escape(fill) + "\"" + (extra.empty() ? "" : " " + extra) + "/>\n";
}

void SvgWriter::line(double x1, double y1, double x2, double y2, const std::string& stroke, double width) {
  body_ += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) +
           "\" stroke=\"" + xml_escape(stroke) + "\" stroke-width=\"" + num(width) + "\"/>\n";
}

void SvgWriter::text(double x, double y, const std::string& s, double size, const std::string& anchor,
                     const std::string& extra) {
  body_ += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" font-size=\"" + num(size) + "\" text-anchor=\"" +
           anchor + "\"" + (extra.empty() ? "" : " " + extra) + ">" + xml_escape(s) + "</text>\n";
}

std::string SvgWriter::finish() const {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         num(width_) + "\" height=\"" + num(height_) + "\" viewBox=\"0 0 " + num(width_) + " " + num(height_) +
         "\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n<rect width=\"100%\" height=\"100%\" "
         "fill=\"white\"/>\n" + body_ + "</svg>\n";
}

std::string render_bench_svg(const std::string& title, const std::string& subtitle,
                             const std::vector<ChartPanel>& panels) {
  std::vector<std::string> sub_lines;  // the subtitle's lines ('\n'-separated)
  for (size_t a = 0; a <= subtitle.size();) {
    const size_t b = std::min(subtitle.find('\n', a), subtitle.size());
    std::string line = subtitle.substr(a, b - a);
    while (line.size() > kSubtitleChars) {  // wrap at a space: SVG text does not wrap itself
      size_t cut = line.rfind(' ', kSubtitleChars);
      if (cut == std::string::npos || cut == 0) cut = kSubtitleChars;
      sub_lines.push_back(line.substr(0, cut));
      line = line.substr(cut + (line[cut] == ' ' ? 1 : 0));
    }
    sub_lines.push_back(line);
    a = b + 1;
  }
  const double header = 50 + 16.0 * sub_lines.size();
  double height = header;
  for (const ChartPanel& p : panels) height += kPanelHead + kRowH * std::max<size_t>(1, p.bars.size()) + kPanelFoot;
  SvgWriter svg(kWidth, height);
  svg.text(kWidth / 2, 24, title, 17, "middle", "font-weight=\"bold\"");
  for (size_t i = 0; i < sub_lines.size(); ++i)
    svg.text(kWidth / 2, 44 + 16 * i, sub_lines[i], 11, "middle", "fill=\"#555\"");
  double y = header;
  const double x0 = kLabelW;
  for (const ChartPanel& p : panels) {
    svg.text(16, y + 20, p.title, 14, "start", "font-weight=\"bold\"");
    const double top = y + kPanelHead;
    const double rows_h = kRowH * std::max<size_t>(1, p.bars.size());
    double vmax = 0;
    for (const ChartBar& b : p.bars)
      if (!b.missing) vmax = std::max({vmax, b.value, b.hi});
    double axis_max, step;
    nice_axis(vmax, &axis_max, &step);
    const auto xs = [&](double v) { return x0 + kPlotW * std::clamp(v / axis_max, 0.0, 1.0); };
    for (double t = 0; t <= axis_max + step * 1e-9; t += step) {  // grid and tick labels
      svg.line(xs(t), top, xs(t), top + rows_h, "#ddd");
      svg.text(xs(t), top + rows_h + 14, tick_label(t, step), 10, "middle", "fill=\"#444\"");
    }
    svg.line(x0, top, x0, top + rows_h, "#333");
    svg.line(x0, top + rows_h, x0 + kPlotW, top + rows_h, "#333");
    svg.text(x0 + kPlotW / 2, top + rows_h + 32, p.axis_label, 11, "middle");
    for (size_t i = 0; i < p.bars.size(); ++i) {
      const ChartBar& b = p.bars[i];
      const double by = top + kRowH * i;
      svg.text(x0 - 8, by + kRowH * 0.65, b.label, 11, "end");
      if (b.missing) {
        svg.text(x0 + 6, by + kRowH * 0.65, b.note, 11, "start", "fill=\"#666\" font-style=\"italic\"");
        continue;
      }
      svg.rect(x0, by + 4, xs(b.value) - x0, kRowH - 8, kColors[i % std::size(kColors)]);
      double label_x = xs(b.value);
      if (b.hi > b.lo) {  // min-max whisker
        svg.line(xs(b.lo), by + kRowH / 2, xs(b.hi), by + kRowH / 2, "#222", 1.2);
        svg.line(xs(b.lo), by + 8, xs(b.lo), by + kRowH - 8, "#222", 1.2);
        svg.line(xs(b.hi), by + 8, xs(b.hi), by + kRowH - 8, "#222", 1.2);
        label_x = std::max(label_x, xs(b.hi));
      }
      svg.text(label_x + 6, by + kRowH * 0.65, format_value(p.value_format, b.value) + b.note, 11, "start");
    }
    if (p.bars.empty()) svg.text(x0 + 6, top + kRowH * 0.65, "(nothing to show)", 11, "start", "fill=\"#666\"");
    y = top + rows_h + kPanelFoot;
  }
  return svg.finish();
}

}  // namespace qlm::cli
