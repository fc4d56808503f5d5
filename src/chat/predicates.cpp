// Jinja's tests (`x is defined`, `x is divisibleby 3`, ...), with Python's semantics for the
// values they inspect. Unknown test names are rejected when the template is parsed.
#include <set>

#include "base/error.h"
#include "chat/builtins.h"

namespace qlm::chat {
namespace {

const std::set<std::string>& test_names() {
  static const std::set<std::string> names = {
      "defined",  "undefined", "none",   "boolean", "false",       "true",
      "integer",  "float",     "number", "string",  "mapping",     "iterable",
      "sequence", "callable",  "even",   "odd",     "divisibleby", "eq",
      "equalto",  "==",        "ne",     "!=",      "lt",          "lessthan",
      "<",        "le",        "<=",     "gt",      "greaterthan", ">",
      "ge",       ">=",        "in",     "lower",   "upper",       "sameas"};
  return names;
}

int64_t as_int(const Value* v, const char* what) {
  if (!v || (v->kind != Kind::kInt && v->kind != Kind::kBool))
    fail("chat template: ", what, " expects an integer");
  return v->kind == Kind::kBool ? v->boolean : v->integer;
}

}  // namespace

bool is_known_test(const std::string& name) {
  return test_names().count(name) > 0;
}

bool apply_test(const std::string& name, const Value& v, CallArgs& args) {
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind == Kind::kBool;
  if (name == "false") return v.kind == Kind::kBool && !v.boolean;
  if (name == "true") return v.kind == Kind::kBool && v.boolean;
  if (name == "integer") return v.kind == Kind::kInt;
  if (name == "float") return v.kind == Kind::kFloat;
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable" || name == "sequence")
    return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "callable") return v.kind == Kind::kCallable;
  if (name == "lower" ||
      name == "upper") {  // str.islower/isupper: some cased letter, none of the other case
    std::string s = to_str(v);
    bool any_cased = false;
    for (uint32_t cp : decode_utf8(s))
      any_cased |= py_upper(encode_utf8({cp})) != py_lower(encode_utf8({cp}));
    return any_cased && (name == "lower" ? py_lower(s) : py_upper(s)) == s;
  }
  if (name == "even" || name == "odd") {
    int64_t i = as_int(&v, name.c_str());
    return (((i % 2) + 2) % 2 == 0) == (name == "even");
  }
  Params p(name, args, {"other"});
  if (!p.has(0)) fail("chat template: test '", name, "' needs an argument");
  const Value& other = *p.get(0);
  if (name == "divisibleby") {
    int64_t d = as_int(&other, "divisibleby");
    if (d == 0) fail("chat template: divisibleby 0");
    return as_int(&v, "divisibleby") % d == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return equals(v, other);
  if (name == "ne" || name == "!=") return !equals(v, other);
  if (name == "lt" || name == "lessthan" || name == "<") return less_than(v, other);
  if (name == "gt" || name == "greaterthan" || name == ">") return less_than(other, v);
  if (name == "le" || name == "<=") return !less_than(other, v);
  if (name == "ge" || name == ">=") return !less_than(v, other);
  if (name == "in") return contains(other, v);
  if (name == "sameas") {
    if (v.kind != other.kind) return false;
    if (v.is_list()) return v.list == other.list;
    if (v.is_dict()) return v.dict == other.dict;
    return equals(v, other);  // None/bool/small values: Python identity coincides with equality
  }
  fail("chat template: unsupported construct 'test ", name, "'");
}

}  // namespace qlm::chat
