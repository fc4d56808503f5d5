// Python's printf-style `str % args` for templates that build strings that way: conversions
// s, r, d, i, f with (name), '-', '0' flags, width and precision. Anything else is refused.
#include <cmath>
#include <cstdio>

#include "base/error.h"
#include "chat/builtins.h"

namespace qlm::chat {
namespace {

[[noreturn]] void unsupported(const std::string& what) {
  fail("chat template: unsupported construct 'string % formatting with ", what, "'");
}

std::string pad(std::string s, size_t width, bool left, char fill) {
  size_t n = code_point_count(s);
  if (n >= width) return s;
  std::string padding(width - n, fill);
  if (left) return s + std::string(width - n, ' ');
  if (fill == '0' && !s.empty() && (s[0] == '-' || s[0] == '+'))
    return s.substr(0, 1) + padding + s.substr(1);
  return padding + s;
}

std::string convert(const Value& v, char conv, int precision) {
  if (conv == 's') return to_str(v);
  if (conv == 'r') return repr(v);
  if (!v.is_number())
    fail("chat template: %", conv, " format: a real number is required, not ", type_name(v));
  if (conv == 'd' || conv == 'i') {
    if (v.kind == Kind::kFloat) {
      if (!(std::fabs(v.number) < 9.2e18))  // inf, nan, or past int64 (Python prints a big int)
        fail("chat template: %", conv, " format: ", format_float(v.number), " is out of range");
      return std::to_string(static_cast<int64_t>(std::trunc(v.number)));
    }
    return std::to_string(v.kind == Kind::kBool ? v.boolean : v.integer);
  }
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", precision < 0 ? 6 : std::min(precision, 100),
                v.as_double());
  return buf;
}

}  // namespace

Value percent_format(const std::string& format, const Value& arg) {
  // Python takes a tuple as the argument list; a mapping (or anything indexable that is not a
  // string) may feed %(name)s and need not be consumed.
  bool mapping_like = arg.is_dict() || arg.is_undefined() || (arg.is_list() && !arg.is_tuple);
  List args = arg.is_list() && arg.is_tuple ? *arg.list : List{arg};
  size_t next = 0;
  bool used_mapping = false;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) fail("chat template: incomplete format");
    if (format[i] == '%') {
      out += '%';
      continue;
    }
    const Value* value = nullptr;
    Value keyed;
    if (format[i] == '(') {
      size_t close = format.find(')', i);
      if (close == std::string::npos) fail("chat template: incomplete format key");
      if (!arg.is_dict()) fail("chat template: format requires a mapping");
      const Value* v = arg.dict->find(format.substr(i + 1, close - i - 1));
      if (!v) fail("chat template: format key '", format.substr(i + 1, close - i - 1), "' missing");
      keyed = *v;
      value = &keyed;
      used_mapping = true;
      i = close + 1;
    }
    bool left = false;
    char fill = ' ';
    for (; i < format.size() && (format[i] == '-' || format[i] == '0' || format[i] == ' ' ||
                                 format[i] == '+' || format[i] == '#');
         ++i) {
      if (format[i] == '-')
        left = true;
      else if (format[i] == '0')
        fill = '0';
      else
        unsupported(std::string("flag '") + format[i] + "'");
    }
    // Width and precision are bounded like every string (a width of 10**15 must not allocate).
    auto number = [&](size_t& i) {
      size_t n = 0;
      for (; i < format.size() && std::isdigit(static_cast<unsigned char>(format[i])); ++i) {
        n = n * 10 + (format[i] - '0');
        if (n > kMaxStringBytes) fail("chat template: format width or precision past the string limit");
      }
      return n;
    };
    const size_t width = number(i);
    if (i < format.size() && format[i] == '*') unsupported("'*' width");
    int precision = -1;
    if (i < format.size() && format[i] == '.') precision = static_cast<int>(number(++i));
    if (i >= format.size()) fail("chat template: incomplete format");
    char conv = format[i];
    if (conv != 's' && conv != 'r' && conv != 'd' && conv != 'i' && conv != 'f')
      unsupported(std::string("'%") + conv + "'");
    if (!value) {
      if (next >= args.size()) fail("chat template: not enough arguments for format string");
      value = &args[next++];
    }
    std::string text = convert(*value, conv, precision);
    if ((conv == 's' || conv == 'r') && precision >= 0) {
      std::vector<std::string> cps = split_code_points(text);
      if (cps.size() > static_cast<size_t>(precision)) {
        text.clear();
        for (int k = 0; k < precision; ++k) text += cps[k];
      }
    }
    out += pad(text, width, left, (conv == 's' || conv == 'r') ? ' ' : fill);
  }
  if (!used_mapping && next < args.size() && !(mapping_like && next == 0))
    fail("chat template: not all arguments converted during string formatting");
  return checked_string(std::move(out));
}

}  // namespace qlm::chat
