// The dynamic value of the template language: Python's data model as Jinja sees it (None, bool,
// int, float, str, list/tuple, insertion-ordered dict, namespace, callables, Undefined).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace qlm::chat {

struct Value;
using List = std::vector<Value>;

// Insertion-ordered string-keyed map: Python dicts keep insertion order and tojson must too.
// Lookups are linear; template dicts (messages, tool schemas) are small.
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(const std::string& key) const;
  Value* find(const std::string& key);
  void set(const std::string& key, Value value);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};
using Function = std::function<Value(CallArgs&)>;

enum class Kind {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kDict,
  kNamespace,
  kCallable
};

// Lists and dicts are immutable once built (the sandbox forbids mutation), so they are shared;
// a namespace is the one mutable object ({% set ns.x = ... %}).
struct Value {
  Kind kind = Kind::kUndefined;
  bool boolean = false;
  bool is_tuple = false;  // only changes how a list prints: (a, b) instead of [a, b]
  int64_t integer = 0;
  double number = 0.0;
  std::string text;  // string contents; for Undefined the hint used in error messages
  std::shared_ptr<const List> list;
  std::shared_ptr<const Dict> dict;
  std::shared_ptr<Dict> ns;
  std::shared_ptr<const Function> function;

  static Value undefined(std::string hint) {
    Value v;
    v.text = std::move(hint);
    return v;
  }
  static Value none() { return make(Kind::kNone); }
  static Value from_bool(bool b) {
    Value v = make(Kind::kBool);
    v.boolean = b;
    return v;
  }
  static Value from_int(int64_t i) {
    Value v = make(Kind::kInt);
    v.integer = i;
    return v;
  }
  static Value from_float(double d) {
    Value v = make(Kind::kFloat);
    v.number = d;
    return v;
  }
  static Value from_string(std::string s) {
    Value v = make(Kind::kString);
    v.text = std::move(s);
    return v;
  }
  static Value from_list(List items, bool tuple = false) {
    Value v = make(Kind::kList);
    v.list = std::make_shared<const List>(std::move(items));
    v.is_tuple = tuple;
    return v;
  }
  static Value from_dict(Dict d) {
    Value v = make(Kind::kDict);
    v.dict = std::make_shared<const Dict>(std::move(d));
    return v;
  }
  static Value from_function(std::string name, Function f) {
    Value v = make(Kind::kCallable);
    v.text = std::move(name);
    v.function = std::make_shared<const Function>(std::move(f));
    return v;
  }

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_none() const { return kind == Kind::kNone; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_list() const { return kind == Kind::kList; }
  bool is_dict() const { return kind == Kind::kDict; }
  // bool counts as a number, as in Python (True + 1 == 2).
  bool is_number() const {
    return kind == Kind::kBool || kind == Kind::kInt || kind == Kind::kFloat;
  }
  double as_double() const;

 private:
  static Value make(Kind k) {
    Value v;
    v.kind = k;
    return v;
  }
};

// Python type name, for error messages ("unsupported operand type(s) for +: 'int' and 'str'").
const char* type_name(const Value& v);
bool truthy(const Value& v);
// Python str() and repr() of a value; Undefined prints as "".
std::string to_str(const Value& v);
std::string repr(const Value& v);
// Python's repr(float): shortest round-trip digits (1.0, 1e-05, 1.2345678901234568e+17).
std::string format_float(double d);
// Python ==, and < for sortable pairs (throws otherwise).
bool equals(const Value& a, const Value& b);
bool less_than(const Value& a, const Value& b);

Value from_json(const nlohmann::ordered_json& j);
Value from_json(const nlohmann::json& j);

// json.dumps(v, ensure_ascii=False, indent=indent, separators=..., sort_keys=...);
// indent < 0 means None; without custom_separators Python's defaults for that indent apply.
struct JsonFormat {
  int indent = -1;
  bool custom_separators = false;
  std::string item_separator;
  std::string key_separator;
  bool sort_keys = false;
};
std::string to_json(const Value& v, const JsonFormat& format);

// UTF-8 helpers: Python indexes strings by code point.
std::vector<std::string> split_code_points(const std::string& s);
size_t code_point_count(const std::string& s);

}  // namespace qlm::chat
