// Python semantics of template values: truthiness, str()/repr(), equality and ordering, and
// conversion from JSON. JSON output (tojson) lives in value_json.cpp.
#include "chat/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "base/error.h"
#include "chat/unicode_text.h"

namespace qlm::chat {

const Value* Dict::find(const std::string& key) const {
  for (const auto& [k, v] : items)
    if (k == key) return &v;
  return nullptr;
}

Value* Dict::find(const std::string& key) {
  for (auto& [k, v] : items)
    if (k == key) return &v;
  return nullptr;
}

void Dict::set(const std::string& key, Value value) {
  if (Value* slot = find(key)) {
    *slot = std::move(value);
  } else {
    items.emplace_back(key, std::move(value));
  }
}

double Value::as_double() const {
  if (kind == Kind::kBool) return boolean ? 1.0 : 0.0;
  if (kind == Kind::kInt) return static_cast<double>(integer);
  return number;
}

const char* type_name(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return v.is_tuple ? "tuple" : "list";
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kCallable:
      return "function";
  }
  return "?";
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return v.boolean;
    case Kind::kInt:
      return v.integer != 0;
    case Kind::kFloat:
      return v.number != 0.0;
    case Kind::kString:
      return !v.text.empty();
    case Kind::kList:
      return !v.list->empty();
    case Kind::kDict:
      return !v.dict->items.empty();
    case Kind::kNamespace:
    case Kind::kCallable:
      return true;
  }
  return false;
}

// Python's float repr: the shortest digits that round-trip, in fixed notation when the decimal
// exponent is in [-4, 16), else d.ddde+XX.
static std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string s(buf, res.ptr);
  std::string sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  size_t e_pos = s.find('e');
  int exponent = std::stoi(s.substr(e_pos + 1));
  std::string digits = s.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  if (exponent >= -4 && exponent < 16) {
    std::string out;
    if (exponent >= 0) {
      if (digits.size() <= static_cast<size_t>(exponent) + 1) {
        out = digits + std::string(exponent + 1 - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
      }
    } else {
      out = "0." + std::string(-exponent - 1, '0') + digits;
    }
    return sign + out;
  }
  std::string mantissa = digits.substr(0, 1);
  if (digits.size() > 1) mantissa += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return sign + mantissa + exp_buf;
}

std::string format_float(double d) {
  return float_repr(d);
}

// Python's repr(str): quote choice, backslash escapes, non-printable code points as \xNN,
// \uNNNN or \UNNNNNNNN.
static std::string repr_string(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (uint32_t cp : decode_utf8(s)) {
    if (cp == static_cast<uint32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!is_py_printable(cp)) {
      char buf[16];
      if (cp < 0x100)
        std::snprintf(buf, sizeof buf, "\\x%02x", cp);
      else if (cp < 0x10000)
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      else
        std::snprintf(buf, sizeof buf, "\\U%08x", cp);
      out += buf;
    } else {
      append_utf8(cp, out);
    }
  }
  out += quote;
  return out;
}

static std::string repr_sequence(const Value& v) {
  std::string out = v.is_tuple ? "(" : "[";
  for (size_t i = 0; i < v.list->size(); ++i) {
    if (i) out += ", ";
    out += repr((*v.list)[i]);
  }
  if (v.is_tuple && v.list->size() == 1) out += ",";
  out += v.is_tuple ? ")" : "]";
  return out;
}

static std::string repr_dict(const Dict& d) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, val] : d.items) {
    if (!first) out += ", ";
    first = false;
    out += repr_string(k) + ": " + repr(val);
  }
  return out + "}";
}

std::string repr(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kString:
      return repr_string(v.text);
    case Kind::kList:
      return repr_sequence(v);
    case Kind::kDict:
      return repr_dict(*v.dict);
    default:
      return to_str(v);
  }
}

std::string to_str(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return v.boolean ? "True" : "False";
    case Kind::kInt:
      return std::to_string(v.integer);
    case Kind::kFloat:
      return float_repr(v.number);
    case Kind::kString:
      return v.text;
    case Kind::kList:
      return repr_sequence(v);
    case Kind::kDict:
      return repr_dict(*v.dict);
    case Kind::kNamespace:
      return "<Namespace " + repr_dict(*v.ns) + ">";
    case Kind::kCallable:
      return "<function " + v.text + ">";
  }
  return "";
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind == Kind::kFloat || b.kind == Kind::kFloat) return a.as_double() == b.as_double();
    int64_t x = a.kind == Kind::kBool ? a.boolean : a.integer;
    int64_t y = b.kind == Kind::kBool ? b.boolean : b.integer;
    return x == y;
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.text == b.text;
    case Kind::kList: {
      if (a.is_tuple != b.is_tuple || a.list->size() != b.list->size()) return false;
      for (size_t i = 0; i < a.list->size(); ++i)
        if (!equals((*a.list)[i], (*b.list)[i])) return false;
      return true;
    }
    case Kind::kDict: {
      if (a.dict->items.size() != b.dict->items.size()) return false;
      for (const auto& [k, val] : a.dict->items) {
        const Value* other = b.dict->find(k);
        if (!other || !equals(val, *other)) return false;
      }
      return true;
    }
    case Kind::kNamespace:
      return a.ns == b.ns;
    case Kind::kCallable:
      return a.function == b.function;
    default:
      return false;
  }
}

bool less_than(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return a.as_double() < b.as_double();
  if (a.is_string() && b.is_string()) return a.text < b.text;  // UTF-8 bytes sort as code points
  if (a.is_list() && b.is_list() && a.is_tuple == b.is_tuple) {
    const List& x = *a.list;
    const List& y = *b.list;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return less_than(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  fail("chat template: '<' not supported between instances of '", type_name(a), "' and '",
       type_name(b), "'");
}

// Nesting beyond this is refused: the conversion (and tojson later) recurse once per level.
constexpr int kMaxJsonDepth = 256;

template <class Json>
static Value from_json_impl(const Json& j, int depth) {
  if (depth > kMaxJsonDepth)
    fail("chat template: input JSON nested deeper than ", kMaxJsonDepth, " levels");
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value::from_bool(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value::from_int(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX))
        fail("chat template: integer ", u, " in input JSON is out of range");
      return Value::from_int(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value::from_float(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value::from_string(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json_impl(e, depth + 1));
      return Value::from_list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Dict d;
      d.items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        d.items.emplace_back(it.key(), from_json_impl(it.value(), depth + 1));
      return Value::from_dict(std::move(d));
    }
    default:
      fail("chat template: unsupported JSON value (binary or discarded)");
  }
}

Value from_json(const nlohmann::ordered_json& j) {
  return from_json_impl(j, 0);
}
Value from_json(const nlohmann::json& j) {
  return from_json_impl(j, 0);
}

std::vector<std::string> split_code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 1;
    len = std::min(len, s.size() - i);
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

size_t code_point_count(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

}  // namespace qlm::chat
