// Less common jinja filters: unique, min, max, dictsort, round and format, with the semantics
// of jinja2/filters.py (case-insensitive string keys by default, Python's round).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/error.h"
#include "chat/builtins.h"

namespace qlm::chat {
namespace {

// jinja's ignore_case: string keys compare lower-cased unless case_sensitive is set.
Value sort_key(const Value& item, const Value* attribute, bool case_sensitive) {
  Value k = attribute ? resolve_attribute(item, to_str(*attribute)) : item;
  return (!case_sensitive && k.is_string()) ? Value::from_string(py_lower(k.text)) : k;
}

Value unique(const Value& v, CallArgs& args) {
  Params p("unique", args, {"case_sensitive", "attribute"});
  bool case_sensitive = p.has(0) && truthy(*p.get(0));
  List out, seen;
  for (const Value& item : iterate(v)) {
    Value key = sort_key(item, p.get(1), case_sensitive);
    bool dup = false;
    for (const Value& s : seen) dup |= equals(s, key);
    if (dup) continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return Value::from_list(std::move(out));
}

Value min_or_max(const std::string& name, const Value& v, CallArgs& args) {
  Params p(name, args, {"case_sensitive", "attribute"});
  bool case_sensitive = p.has(0) && truthy(*p.get(0));
  List items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = sort_key(items[0], p.get(1), case_sensitive);
  for (size_t i = 1; i < items.size(); ++i) {
    Value key = sort_key(items[i], p.get(1), case_sensitive);
    // Python's min/max keep the first of equal items.
    if (name == "min" ? less_than(key, best_key) : less_than(best_key, key)) {
      best = i;
      best_key = key;
    }
  }
  return items[best];
}

Value dictsort(const Value& v, CallArgs& args) {
  Params p("dictsort", args, {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) fail("chat template: dictsort needs a mapping");
  bool case_sensitive = p.has(0) && truthy(*p.get(0));
  std::string by = p.has(1) ? to_str(*p.get(1)) : "key";
  if (by != "key" && by != "value")
    fail("chat template: dictsort: you can only sort by either 'key' or 'value'");
  bool reverse = p.has(2) && truthy(*p.get(2));
  List items;
  for (const auto& [k, val] : v.dict->items)
    items.push_back(Value::from_list({Value::from_string(k), val}, true));
  size_t slot = by == "key" ? 0 : 1;
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    Value ka = sort_key((*a.list)[slot], nullptr, case_sensitive);
    Value kb = sort_key((*b.list)[slot], nullptr, case_sensitive);
    return reverse ? less_than(kb, ka) : less_than(ka, kb);
  });
  return Value::from_list(std::move(items));
}

Value round_filter(const Value& v, CallArgs& args) {
  Params p("round", args, {"precision", "method"});
  int64_t precision = 0;
  if (p.has(0)) {
    if (p.get(0)->kind != Kind::kInt) fail("chat template: round(precision) expects an integer");
    precision = p.get(0)->integer;
  }
  std::string method = p.has(1) ? to_str(*p.get(1)) : "common";
  if (method != "common" && method != "ceil" && method != "floor")
    fail("chat template: round: method must be 'common', 'ceil' or 'floor'");
  if (!v.is_number())
    fail("chat template: round: type ", type_name(v), " doesn't define __round__");
  if (method == "common" && v.kind != Kind::kFloat && precision >= 0)
    return Value::from_int(v.kind == Kind::kBool ? v.boolean : v.integer);
  if (precision < 0 || precision > 300)
    fail("chat template: unsupported construct 'round with precision ", precision, "'");
  double x = v.as_double();
  if (method == "common") {
    // printf rounds the exact binary value half-to-even, as Python's round() does.
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), x);
    return Value::from_float(std::strtod(buf, nullptr));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double r = method == "ceil" ? std::ceil(x * scale) : std::floor(x * scale);
  return Value::from_float(r / scale);
}

}  // namespace

bool is_extra_filter(const std::string& name) {
  return name == "unique" || name == "min" || name == "max" || name == "dictsort" ||
         name == "round" || name == "format";
}

Value apply_extra_filter(const std::string& name, const Value& v, CallArgs& args) {
  if (name == "unique") return unique(v, args);
  if (name == "min" || name == "max") return min_or_max(name, v, args);
  if (name == "dictsort") return dictsort(v, args);
  if (name == "round") return round_filter(v, args);
  // format: `value % args`, or `value % kwargs`; jinja refuses both at once.
  if (!args.positional.empty() && !args.keyword.empty())
    fail("chat template: format: can't handle positional and keyword arguments at the same time");
  if (!args.keyword.empty()) {
    Dict d;
    for (const auto& [k, val] : args.keyword) d.set(k, val);
    return percent_format(to_str(v), Value::from_dict(std::move(d)));
  }
  return percent_format(to_str(v), Value::from_list(args.positional, true));
}

}  // namespace qlm::chat
