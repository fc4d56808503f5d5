// Object protocol: attribute and item lookup with Jinja's fallbacks and sandbox rules, iteration,
// `in`, and the Python str/dict methods templates call (startswith, split, strip, items, ...).
#include <algorithm>

#include "base/error.h"
#include "chat/builtins.h"

namespace qlm::chat {

Params::Params(const std::string& callee, CallArgs& args, std::initializer_list<const char*> names)
    : slots_(names.size(), nullptr) {
  if (args.positional.size() > names.size())
    fail("chat template: ", callee, "() takes at most ", names.size(), " arguments (",
         args.positional.size(), " given)");
  for (size_t i = 0; i < args.positional.size(); ++i) slots_[i] = &args.positional[i];
  for (const auto& [key, value] : args.keyword) {
    size_t i = 0;
    for (const char* n : names) {
      if (key == n) break;
      ++i;
    }
    if (i == names.size())
      fail("chat template: ", callee, "() got an unexpected keyword argument '", key, "'");
    slots_[i] = &value;
  }
}

void fail_undefined(const Value& undefined) {
  fail("chat template: ", undefined.text.empty() ? "value is undefined" : undefined.text);
}

namespace {

const std::string& need_string(const std::string& method, const Value* v) {
  if (!v || !v->is_string())
    fail("chat template: ", method, "() expects a string argument, got ",
         v ? type_name(*v) : "nothing");
  return v->text;
}

// str.strip/lstrip/rstrip: chars=None strips whitespace, else any code point in chars.
std::string strip(const std::string& s, const Value* chars, bool left, bool right) {
  std::vector<uint32_t> cps = decode_utf8(s);
  std::vector<uint32_t> set;
  bool whitespace = !chars || chars->is_none();
  if (!whitespace) set = decode_utf8(need_string("strip", chars));
  auto strippable = [&](uint32_t cp) {
    return whitespace ? is_py_space(cp) : std::find(set.begin(), set.end(), cp) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strippable(cps[b])) ++b;
  if (right)
    while (e > b && strippable(cps[e - 1])) --e;
  return encode_utf8(std::vector<uint32_t>(cps.begin() + b, cps.begin() + e));
}

Value split(const std::string& s, const Value* sep_v, const Value* maxsplit_v) {
  int64_t maxsplit = (maxsplit_v && maxsplit_v->kind == Kind::kInt) ? maxsplit_v->integer : -1;
  List parts;
  if (!sep_v || sep_v->is_none()) {  // runs of whitespace, no empty parts
    std::vector<uint32_t> cps = decode_utf8(s);
    size_t i = 0;
    while (true) {
      while (i < cps.size() && is_py_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      size_t j = i;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
        j = cps.size();
        while (j > i && is_py_space(cps[j - 1])) --j;
      } else {
        while (j < cps.size() && !is_py_space(cps[j])) ++j;
      }
      parts.push_back(
          Value::from_string(encode_utf8(std::vector<uint32_t>(cps.begin() + i, cps.begin() + j))));
      if (j == cps.size() || (maxsplit >= 0 && static_cast<int64_t>(parts.size()) > maxsplit))
        break;
      i = j;
    }
    return Value::from_list(std::move(parts));
  }
  const std::string& sep = need_string("split", sep_v);
  if (sep.empty()) fail("chat template: split(): empty separator");
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    if (at == std::string::npos ||
        (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit))
      break;
    parts.push_back(Value::from_string(s.substr(start, at - start)));
    start = at + sep.size();
  }
  parts.push_back(Value::from_string(s.substr(start)));
  return Value::from_list(std::move(parts));
}

bool starts_or_ends(const std::string& s, const Value* arg, bool starts, const char* name) {
  if (arg && arg->is_list() && arg->is_tuple) {
    for (const Value& v : *arg->list)
      if (starts_or_ends(s, &v, starts, name)) return true;
    return false;
  }
  const std::string& p = need_string(name, arg);
  if (p.size() > s.size()) return false;
  return starts ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to,
                        int64_t count) {
  std::string out;
  if (from.empty()) {  // Python inserts `to` between every code point and at both ends
    std::vector<std::string> cps = split_code_points(s);
    int64_t n = 0;
    for (const auto& cp : cps) {
      if (count < 0 || n++ < count) out += to;
      out += cp;
    }
    if (count < 0 || n < count) out += to;
    return out;
  }
  size_t start = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    size_t at = s.find(from, start);
    if (at == std::string::npos) break;
    out += s.substr(start, at - start) + to;
    start = at + from.size();
    ++n;
  }
  return out + s.substr(start);
}

}  // namespace

// Shared with the filters.
std::string str_strip(const std::string& s, const Value* chars) {
  return strip(s, chars, true, true);
}
std::string str_replace(const std::string& s, const std::string& from, const std::string& to,
                        int64_t count) {
  return replace_all(s, from, to, count);
}

namespace {

Value string_method(const std::string& s, const std::string& name, CallArgs& args) {
  if (name == "startswith" || name == "endswith") {
    Params p(name, args, {"prefix"});
    return Value::from_bool(starts_or_ends(s, p.get(0), name == "startswith", name.c_str()));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    Params p(name, args, {"chars"});
    return Value::from_string(strip(s, p.get(0), name != "rstrip", name != "lstrip"));
  }
  if (name == "split") {
    Params p(name, args, {"sep", "maxsplit"});
    return split(s, p.get(0), p.get(1));
  }
  if (name == "replace") {
    Params p(name, args, {"old", "new", "count"});
    int64_t count = p.has(2) && p.get(2)->kind == Kind::kInt ? p.get(2)->integer : -1;
    return Value::from_string(
        replace_all(s, need_string(name, p.get(0)), need_string(name, p.get(1)), count));
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
    Params p(name, args, {});
    if (name == "upper") return Value::from_string(py_upper(s));
    if (name == "lower") return Value::from_string(py_lower(s));
    if (name == "title") return Value::from_string(py_title(s));
    return Value::from_string(py_capitalize(s));
  }
  if (name == "find" || name == "count") {
    Params p(name, args, {"sub"});
    const std::string& sub = need_string(name, p.get(0));
    if (name == "find") {
      size_t at = s.find(sub);
      return Value::from_int(
          at == std::string::npos ? -1 : static_cast<int64_t>(code_point_count(s.substr(0, at))));
    }
    if (sub.empty()) return Value::from_int(static_cast<int64_t>(code_point_count(s)) + 1);
    int64_t n = 0;
    for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
    return Value::from_int(n);
  }
  if (name == "join") {
    Params p(name, args, {"iterable"});
    std::string out;
    bool first = true;
    for (const Value& v : iterate(p.get(0) ? *p.get(0) : Value())) {
      if (!v.is_string())
        fail("chat template: join(): sequence item is ", type_name(v), ", expected str");
      if (!first) out += s;
      first = false;
      out += v.text;
    }
    return Value::from_string(out);
  }
  fail("chat template: unknown str method '", name, "'");
}

Value dict_method(const Value& obj, const std::string& name, CallArgs& args) {
  const Dict& d = *obj.dict;
  if (name == "get") {
    Params p(name, args, {"key", "default"});
    if (p.get(0) && p.get(0)->is_string())
      if (const Value* v = d.find(p.get(0)->text)) return *v;
    return p.has(1) ? *p.get(1) : Value::none();
  }
  Params p(name, args, {});
  List out;
  for (const auto& [k, v] : d.items) {
    if (name == "keys")
      out.push_back(Value::from_string(k));
    else if (name == "values")
      out.push_back(v);
    else
      out.push_back(Value::from_list({Value::from_string(k), v}, true));
  }
  return Value::from_list(std::move(out));
}

const char* const kStringMethods[] = {"startswith", "endswith", "strip", "lstrip", "rstrip",
                                      "split",      "replace",  "upper", "lower",  "title",
                                      "capitalize", "find",     "count", "join"};
const char* const kDictMethods[] = {"items", "keys", "values", "get"};

template <size_t N>
bool in_list(const char* const (&list)[N], const std::string& name) {
  for (const char* m : list)
    if (name == m) return true;
  return false;
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (!name.empty() && name[0] == '_')
    return Value::undefined("access to attribute '" + name + "' is unsafe");
  if (obj.is_string() && in_list(kStringMethods, name)) {
    return Value::from_function(
        "str." + name, [obj, name](CallArgs& a) { return string_method(obj.text, name, a); });
  }
  if (obj.is_dict()) {
    if (in_list(kDictMethods, name))
      return Value::from_function("dict." + name,
                                  [obj, name](CallArgs& a) { return dict_method(obj, name, a); });
    if (const Value* v = obj.dict->find(name)) return *v;
    return Value::undefined("'dict object' has no attribute '" + name + "'");
  }
  if (obj.kind == Kind::kNamespace) {
    if (const Value* v = obj.ns->find(name)) return *v;
  }
  return Value::undefined(std::string("'") + type_name(obj) + " object' has no attribute '" + name +
                          "'");
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.dict->find(key.text)) return *v;
  }
  if ((obj.is_list() || obj.is_string()) && (key.kind == Kind::kInt || key.kind == Kind::kBool)) {
    int64_t i = key.kind == Kind::kBool ? key.boolean : key.integer;
    if (obj.is_list()) {
      int64_t n = static_cast<int64_t>(obj.list->size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return (*obj.list)[i];
    } else {
      std::vector<std::string> cps = split_code_points(obj.text);
      int64_t n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return Value::from_string(cps[i]);
    }
    return Value::undefined(std::string("'") + type_name(obj) + " object' has no element " +
                            std::to_string(key.integer));
  }
  if (key.is_string()) return get_attr(obj, key.text);
  return Value::undefined(std::string("'") + type_name(obj) + " object' has no element " +
                          repr(key));
}

List iterate(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return {};
    case Kind::kList:
      return *v.list;
    case Kind::kDict: {
      List keys;
      for (const auto& item : v.dict->items) keys.push_back(Value::from_string(item.first));
      return keys;
    }
    case Kind::kString: {
      List chars;
      for (auto& cp : split_code_points(v.text)) chars.push_back(Value::from_string(std::move(cp)));
      return chars;
    }
    default:
      fail("chat template: '", type_name(v), "' object is not iterable");
  }
}

bool contains(const Value& container, const Value& item) {
  if (container.is_string()) {
    if (!item.is_string())
      fail("chat template: 'in <string>' requires string as left operand, not ", type_name(item));
    return container.text.find(item.text) != std::string::npos;
  }
  if (container.is_dict()) {
    // Python hashes the key first: lists, dicts and tuples holding them cannot be looked up.
    std::function<const Value*(const Value&)> unhashable = [&](const Value& v) -> const Value* {
      if (v.is_dict() || v.kind == Kind::kNamespace || (v.is_list() && !v.is_tuple)) return &v;
      if (v.is_list())
        for (const Value& e : *v.list)
          if (const Value* bad = unhashable(e)) return bad;
      return nullptr;
    };
    if (const Value* bad = unhashable(item))
      fail("chat template: unhashable type: '", type_name(*bad), "'");
    return item.is_string() && container.dict->find(item.text) != nullptr;
  }
  if (container.is_undefined()) return false;
  for (const Value& v : iterate(container))
    if (equals(v, item)) return true;
  return false;
}

}  // namespace qlm::chat
