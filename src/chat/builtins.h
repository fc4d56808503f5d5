// The object protocol and built-in library the evaluator calls into: attribute/item access
// with Jinja's fallbacks, str/dict methods, filters and tests.
#pragma once

#include <initializer_list>
#include <string>

#include "chat/unicode_text.h"
#include "chat/value.h"

namespace qlm::chat {

// No string value may grow past this (concatenation can double a string per loop iteration).
constexpr size_t kMaxStringBytes = size_t{64} << 20;
// Returns `s` wrapped as a Value after checking it against kMaxStringBytes.
Value checked_string(std::string s);
// Integer results: Python's never overflow, ours are int64, so one past it is an error, not UB.
Value checked_int(bool overflowed, int64_t value);

// Binds call arguments to a Python-style signature: positional slots by order, then keywords
// by name. Unknown keywords or surplus positionals throw, naming the callee.
class Params {
 public:
  Params(const std::string& callee, CallArgs& args, std::initializer_list<const char*> names);
  const Value* get(size_t index) const { return slots_[index]; }  // null when not passed
  bool has(size_t index) const { return slots_[index] != nullptr; }

 private:
  std::vector<const Value*> slots_;
};

[[noreturn]] void fail_undefined(const Value& undefined);

// obj.name: Jinja tries the attribute (a method here) first, then the item.
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: Jinja tries the item first, then the attribute when the key is a string.
Value get_item(const Value& obj, const Value& key);
// Items of an iterable in iteration order (dict: keys; str: code points; Undefined: none).
List iterate(const Value& v);

bool is_known_filter(const std::string& name);
// Jinja's attribute path ("a.b", "0") resolved one part at a time through get_item.
Value resolve_attribute(const Value& item, const std::string& path);
// The less common filters (extra_filters.cpp): unique, min, max, dictsort, round, format.
bool is_extra_filter(const std::string& name);
Value apply_extra_filter(const std::string& name, const Value& v, CallArgs& args);
bool is_known_test(const std::string& name);
Value apply_filter(const std::string& name, const Value& operand, CallArgs& args);
bool apply_test(const std::string& name, const Value& operand, CallArgs& args);

// Python's `a in b`.
bool contains(const Value& container, const Value& item);

// Python's binary operators (+ - * / // % ** and Jinja's ~ concatenation).
Value binary_op(const std::string& op, const Value& a, const Value& b);
// Python's printf-style `format % arg` (format.cpp).
Value percent_format(const std::string& format, const Value& arg);
// Python's obj[start:stop:step] on a list or string; null bounds are omitted ones.
Value slice_of(const Value& obj, const Value* start, const Value* stop, const Value* step);
// Global functions (raise_exception, namespace, range, dict, strftime_now); Undefined if unknown.
Value global_function(const std::string& name);

// Python str methods shared by methods and filters (case mapping: unicode_text.h).
std::string str_strip(const std::string& s, const Value* chars);
std::string str_replace(const std::string& s, const std::string& from, const std::string& to,
                        int64_t count);

}  // namespace qlm::chat
