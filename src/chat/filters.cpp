// Jinja's built-in filters that chat templates use, with Hugging Face's tojson
// (json.dumps, ensure_ascii=False). Unknown names are rejected when the template is parsed.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "base/error.h"
#include "chat/builtins.h"

namespace qlm::chat {
namespace {

const std::set<std::string>& filter_names() {
  static const std::set<std::string> names = {
      "abs",    "capitalize", "count",   "d",       "default", "first",  "float",      "indent",
      "int",    "items",      "join",    "last",    "length",  "list",   "lower",      "map",
      "reject", "rejectattr", "replace", "reverse", "safe",    "select", "selectattr", "sort",
      "string", "sum",        "title",   "tojson",  "trim",    "upper"};
  return names;
}

int64_t as_int(const Value* v, const char* what) {
  if (!v || (v->kind != Kind::kInt && v->kind != Kind::kBool))
    fail("chat template: ", what, " expects an integer");
  return v->kind == Kind::kBool ? v->boolean : v->integer;
}

Value length_of(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return Value::from_int(0);
    case Kind::kString:
      return Value::from_int(static_cast<int64_t>(code_point_count(v.text)));
    case Kind::kList:
      return Value::from_int(static_cast<int64_t>(v.list->size()));
    case Kind::kDict:
      return Value::from_int(static_cast<int64_t>(v.dict->items.size()));
    default:
      fail("chat template: object of type '", type_name(v), "' has no len()");
  }
}

// select/reject/selectattr/rejectattr: args are [attribute,] [test name, test args...].
Value select_items(const std::string& name, const Value& seq, CallArgs& args) {
  if (!truthy(seq)) return Value::from_list({});  // jinja checks `if value:` first
  bool by_attr = name == "selectattr" || name == "rejectattr";
  bool keep = name == "select" || name == "selectattr";
  std::vector<Value> rest = args.positional;
  std::string attribute;
  if (by_attr) {
    if (rest.empty() || !rest[0].is_string())
      fail("chat template: ", name, " needs an attribute name");
    attribute = rest[0].text;
    rest.erase(rest.begin());
  }
  std::string test;
  if (!rest.empty()) {
    if (!rest[0].is_string()) fail("chat template: ", name, " needs a test name");
    test = rest[0].text;
    if (!is_known_test(test)) fail("chat template: unsupported construct 'test ", test, "'");
    rest.erase(rest.begin());
  }
  List out;
  for (const Value& item : iterate(seq)) {
    Value subject = by_attr ? resolve_attribute(item, attribute) : item;
    bool passed;
    if (test.empty()) {
      passed = truthy(subject);
    } else {
      CallArgs test_args{rest, {}};
      passed = apply_test(test, subject, test_args);
    }
    if (passed == keep) out.push_back(item);
  }
  return Value::from_list(std::move(out));
}

Value map_items(const Value& seq, CallArgs& args) {
  if (!truthy(seq)) return Value::from_list({});  // jinja checks `if value:` first
  List out;
  const Value* attribute = nullptr;
  const Value* fallback = nullptr;
  for (const auto& [k, v] : args.keyword) {
    if (k == "attribute")
      attribute = &v;
    else if (k == "default")
      fallback = &v;
    else
      fail("chat template: map() got an unexpected keyword argument '", k, "'");
  }
  if (attribute) {
    if (!attribute->is_string()) fail("chat template: map(attribute=...) needs a string");
    for (const Value& item : iterate(seq)) {
      Value v = resolve_attribute(item, attribute->text);
      out.push_back(v.is_undefined() && fallback ? *fallback : v);
    }
    return Value::from_list(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string())
    fail("chat template: map() needs a filter name or attribute=");
  std::string filter = args.positional[0].text;
  if (!is_known_filter(filter) || filter == "map")
    fail("chat template: unsupported construct 'filter ", filter, "'");
  for (const Value& item : iterate(seq)) {
    CallArgs filter_args{std::vector<Value>(args.positional.begin() + 1, args.positional.end()),
                         {}};
    out.push_back(apply_filter(filter, item, filter_args));
  }
  return Value::from_list(std::move(out));
}

Value tojson(const Value& v, CallArgs& args) {
  Params p("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  if (p.has(0) && truthy(*p.get(0)))
    fail("chat template: unsupported construct 'tojson(ensure_ascii=True)'");
  JsonFormat format;
  if (p.has(1) && !p.get(1)->is_none())
    format.indent = static_cast<int>(as_int(p.get(1), "tojson(indent)"));
  if (p.has(2) && !p.get(2)->is_none()) {
    const Value& sep = *p.get(2);
    if (!sep.is_list() || sep.list->size() != 2 || !(*sep.list)[0].is_string() ||
        !(*sep.list)[1].is_string())
      fail("chat template: tojson(separators) expects two strings");
    format.custom_separators = true;
    format.item_separator = (*sep.list)[0].text;
    format.key_separator = (*sep.list)[1].text;
  }
  format.sort_keys = p.has(3) && truthy(*p.get(3));
  return Value::from_string(to_json(v, format));
}

Value indent(const Value& v, CallArgs& args) {
  Params p("indent", args, {"width", "first", "blank"});
  std::string pad = p.has(0) && p.get(0)->is_string()
                        ? p.get(0)->text
                        : std::string(p.has(0) ? as_int(p.get(0), "indent") : 4, ' ');
  bool first = p.has(1) && truthy(*p.get(1));
  bool blank = p.has(2) && truthy(*p.get(2));
  std::string s = to_str(v) + "\n";
  std::vector<std::string> lines;  // str.splitlines on \n, \r\n and \r
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      lines.push_back(s.substr(start, i - start));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  std::string out = lines[0];
  for (size_t i = 1; i < lines.size(); ++i) {
    out += '\n';
    if (blank || !lines[i].empty()) out += pad;
    out += lines[i];
  }
  return checked_string(first ? pad + out : out);
}

Value sort_items(const Value& seq, CallArgs& args) {
  Params p("sort", args, {"reverse", "case_sensitive", "attribute"});
  bool reverse = p.has(0) && truthy(*p.get(0));
  bool case_sensitive = p.has(1) && truthy(*p.get(1));
  List items = iterate(seq);
  auto key = [&](const Value& item) {
    Value k = p.has(2) ? resolve_attribute(item, to_str(*p.get(2))) : item;
    return (!case_sensitive && k.is_string()) ? Value::from_string(py_lower(k.text)) : k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    return reverse ? less_than(key(b), key(a)) : less_than(key(a), key(b));
  });
  return Value::from_list(std::move(items));
}

// Jinja's title filter (not str.title): split on runs of [-\s({\[<], then upper-case each
// piece's first character and lower-case the rest.
std::string jinja_title(const std::string& s) {
  std::vector<uint32_t> cps = decode_utf8(s);
  auto is_sep = [](uint32_t c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_py_space(c);
  };
  std::string out;
  for (size_t i = 0; i < cps.size();) {
    size_t j = i;
    bool sep = is_sep(cps[i]);
    while (j < cps.size() && is_sep(cps[j]) == sep) ++j;
    std::vector<uint32_t> piece(cps.begin() + i, cps.begin() + j);
    if (sep) {
      out += encode_utf8(piece);
    } else {
      out += py_upper(encode_utf8({piece[0]}));
      out += py_lower(encode_utf8(std::vector<uint32_t>(piece.begin() + 1, piece.end())));
    }
    i = j;
  }
  return out;
}

// Python's numeric literal syntax as int()/float() accept it: spaces around, a sign, single
// underscores between digits; float() also takes a fraction, an exponent, inf and nan.
std::optional<std::string> clean_number(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '_') {
      bool between = i > 0 && i + 1 < text.size() &&
                     std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
                     std::isdigit(static_cast<unsigned char>(text[i + 1]));
      if (!between) return std::nullopt;
      continue;
    }
    if (c == 'x' || c == 'X' || c == 'p' || c == 'P') return std::nullopt;  // no hex floats
    out += c;
  }
  return out;
}

// jinja's int/float filters: int(value) or int(float(value)), float(value); failures give the
// default, but Undefined and infinities raise as they do in Python.
Value to_number(const std::string& name, const Value& v, CallArgs& args) {
  if (v.is_undefined()) fail_undefined(v);
  Params p(name, args, {"default"});
  bool want_int = name == "int";
  Value fallback = p.has(0) ? *p.get(0) : (want_int ? Value::from_int(0) : Value::from_float(0.0));
  if (v.kind == Kind::kInt || v.kind == Kind::kBool) {
    int64_t i = v.kind == Kind::kBool ? v.boolean : v.integer;
    return want_int ? Value::from_int(i) : Value::from_float(static_cast<double>(i));
  }
  double d;
  if (v.kind == Kind::kFloat) {
    d = v.number;
  } else if (v.is_string()) {
    std::string stripped = str_strip(v.text, nullptr);
    // Python also reads non-ASCII decimal digits (١٢, １２); we do not, so refuse text from the
    // blocks that hold such digits rather than return the default where Python would not.
    for (uint32_t cp : decode_utf8(stripped)) {
      bool maybe_digit = (cp >= 0x660 && cp <= 0x1C59) || (cp >= 0xA620 && cp <= 0xABF9) ||
                         (cp >= 0xFF10 && cp <= 0xFF19) || cp >= 0x10000;
      if (maybe_digit)
        fail("chat template: unsupported construct '", name, " filter on non-ASCII digits'");
    }
    std::optional<std::string> text = clean_number(stripped);
    if (!text || text->empty()) return fallback;
    size_t digits_from = ((*text)[0] == '+' || (*text)[0] == '-') ? 1 : 0;
    bool integral = text->size() > digits_from &&
                    text->find_first_not_of("0123456789", digits_from) == std::string::npos;
    if (want_int && integral) {
      try {
        return Value::from_int(std::stoll(*text));
      } catch (const std::out_of_range&) {
        fail("chat template: int(): ", v.text, " is out of range");
      }
    }
    try {
      size_t used = 0;
      d = std::stod(*text, &used);
      if (used != text->size()) return fallback;
    } catch (const std::invalid_argument&) {
      return fallback;
    } catch (const std::out_of_range&) {
      d = (*text)[0] == '-' ? -HUGE_VAL : HUGE_VAL;  // Python's float() overflows to inf too
    }
  } else {
    return fallback;
  }
  if (!want_int) return Value::from_float(d);
  if (std::isnan(d)) return fallback;
  if (std::isinf(d)) fail("chat template: int(): cannot convert float infinity to integer");
  if (std::fabs(d) >= 9.2e18) fail("chat template: int(): ", format_float(d), " is out of range");
  return Value::from_int(static_cast<int64_t>(d));
}

Value add_numbers(const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number())
    fail("chat template: sum(): unsupported operand type(s) for +: '", type_name(a), "' and '",
         type_name(b), "'");
  if (a.kind == Kind::kFloat || b.kind == Kind::kFloat)
    return Value::from_float(a.as_double() + b.as_double());
  // In int64, not through double: Python's integers are exact.
  auto int_of = [](const Value& v) { return v.kind == Kind::kBool ? int64_t{v.boolean} : v.integer; };
  int64_t sum = 0;
  const bool overflow = __builtin_add_overflow(int_of(a), int_of(b), &sum);
  return checked_int(overflow, sum);
}

}  // namespace

// Jinja's attribute paths ("a.b", "0") resolve one part at a time through get_item.
Value resolve_attribute(const Value& item, const std::string& path) {
  Value cur = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(),
                                                [](char c) { return c >= '0' && c <= '9'; });
    cur = get_item(cur, numeric && part.size() < 18 ? Value::from_int(std::stoll(part))
                                                    : Value::from_string(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

bool is_known_filter(const std::string& name) {
  return filter_names().count(name) > 0 || is_extra_filter(name);
}

Value apply_filter(const std::string& name, const Value& v, CallArgs& args) {
  if (is_extra_filter(name)) return apply_extra_filter(name, v, args);
  if (name == "tojson") return tojson(v, args);
  if (name == "map") return map_items(v, args);
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr")
    return select_items(name, v, args);
  if (name == "indent") return indent(v, args);
  if (name == "sort") return sort_items(v, args);
  if (name == "default" || name == "d") {
    Params p(name, args, {"default_value", "boolean"});
    bool use_default = v.is_undefined() || (p.has(1) && truthy(*p.get(1)) && !truthy(v));
    if (!use_default) return v;
    return p.has(0) ? *p.get(0) : Value::from_string("");
  }
  if (name == "replace") {
    Params p(name, args, {"old", "new", "count"});
    if (!p.has(0) || !p.has(1)) fail("chat template: replace() needs old and new");
    int64_t count = p.has(2) && !p.get(2)->is_none() ? as_int(p.get(2), "replace(count)") : -1;
    return checked_string(str_replace(to_str(v), to_str(*p.get(0)), to_str(*p.get(1)), count));
  }
  if (name == "join") {
    Params p(name, args, {"d", "attribute"});
    std::string sep = p.has(0) ? to_str(*p.get(0)) : "";
    std::string out;
    bool first = true;
    for (const Value& item : iterate(v)) {
      if (!first) out += sep;
      first = false;
      out += to_str(p.has(1) ? resolve_attribute(item, to_str(*p.get(1))) : item);
      if (out.size() > kMaxStringBytes) checked_string(std::move(out));
    }
    return checked_string(std::move(out));
  }
  if (name == "trim") {
    Params p(name, args, {"chars"});
    return Value::from_string(str_strip(to_str(v), p.get(0)));
  }
  if (name == "sum") {
    Params p(name, args, {"attribute", "start"});
    Value total = p.has(1) ? *p.get(1) : Value::from_int(0);
    for (const Value& item : iterate(v))
      total = add_numbers(total, p.has(0) ? resolve_attribute(item, to_str(*p.get(0))) : item);
    return total;
  }
  if (name == "int" || name == "float") return to_number(name, v, args);
  Params p(name, args, {});  // the rest take no arguments
  if (name == "length" || name == "count") return length_of(v);
  if (name == "string") return Value::from_string(to_str(v));
  if (name == "safe") return v;
  if (name == "lower") return Value::from_string(py_lower(to_str(v)));
  if (name == "upper") return Value::from_string(py_upper(to_str(v)));
  if (name == "title") return Value::from_string(jinja_title(to_str(v)));
  if (name == "capitalize") return Value::from_string(py_capitalize(to_str(v)));
  if (name == "list") return Value::from_list(iterate(v));
  if (name == "abs") {
    if (v.kind == Kind::kFloat) return Value::from_float(std::fabs(v.number));
    if (v.kind == Kind::kInt || v.kind == Kind::kBool) {
      // Check before negating: llabs(INT64_MIN) is itself the overflow (UB).
      const bool overflow = v.kind == Kind::kInt && v.integer == INT64_MIN;
      return checked_int(overflow, overflow ? 0 : std::llabs(v.kind == Kind::kBool ? v.boolean : v.integer));
    }
    fail("chat template: bad operand type for abs(): '", type_name(v), "'");
  }
  if (name == "first" || name == "last") {
    List items = iterate(v);
    if (items.empty()) return Value::undefined("no " + name + " item, sequence was empty");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "reverse") {
    if (v.is_string()) {
      std::vector<std::string> cps = split_code_points(v.text);
      std::string out;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
      return Value::from_string(out);
    }
    List items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::from_list(std::move(items));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::from_list({});
    if (!v.is_dict()) fail("chat template: can only get item pairs from a mapping");
    List out;
    for (const auto& [k, val] : v.dict->items)
      out.push_back(Value::from_list({Value::from_string(k), val}, true));
    return Value::from_list(std::move(out));
  }
  fail("chat template: unsupported construct 'filter ", name, "'");
}

}  // namespace qlm::chat
