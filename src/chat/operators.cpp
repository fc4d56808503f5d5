// Python arithmetic, concatenation and slicing on template values, and the global functions
// Hugging Face exposes to chat templates.
#include <cmath>
#include <ctime>

#include "base/error.h"
#include "chat/builtins.h"

namespace qlm::chat {
namespace {

[[noreturn]] void type_error(const std::string& op, const Value& a, const Value& b) {
  fail("chat template: unsupported operand type(s) for ", op, ": '", type_name(a), "' and '",
       type_name(b), "'");
}

int64_t int_of(const Value& v) {
  return v.kind == Kind::kBool ? v.boolean : v.integer;
}

Value repeat(const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  if (seq.is_string()) {
    if (seq.text.size() * static_cast<size_t>(times) > kMaxStringBytes)
      fail("chat template: string repetition too large");
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += seq.text;
    return Value::from_string(out);
  }
  size_t bytes = 0;  // list items are copied, so bound the copied text as well as the count
  for (const Value& v : *seq.list) bytes += v.text.size();
  if (seq.list->size() * static_cast<size_t>(times) > 1'000'000 ||
      bytes * static_cast<size_t>(times) > kMaxStringBytes)
    fail("chat template: list repetition too large");
  List out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), seq.list->begin(), seq.list->end());
  return Value::from_list(std::move(out), seq.is_tuple);
}

}  // namespace

Value checked_string(std::string s) {
  if (s.size() > kMaxStringBytes)
    fail("chat template: string longer than the limit of ", kMaxStringBytes, " bytes");
  return Value::from_string(std::move(s));
}

Value checked_int(bool overflowed, int64_t value) {
  if (overflowed) fail("chat template: integer result does not fit in 64 bits");
  return Value::from_int(value);
}

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return checked_string(to_str(a) + to_str(b));
  if (op == "%" && a.is_string()) return percent_format(a.text, b);
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    bool floating = a.kind == Kind::kFloat || b.kind == Kind::kFloat;
    double x = a.as_double(), y = b.as_double();
    int64_t r = 0;
    if (op == "+") {
      if (floating) return Value::from_float(x + y);
      const bool overflow = __builtin_add_overflow(int_of(a), int_of(b), &r);
      return checked_int(overflow, r);
    }
    if (op == "-") {
      if (floating) return Value::from_float(x - y);
      const bool overflow = __builtin_sub_overflow(int_of(a), int_of(b), &r);
      return checked_int(overflow, r);
    }
    if (op == "*") {
      if (floating) return Value::from_float(x * y);
      const bool overflow = __builtin_mul_overflow(int_of(a), int_of(b), &r);
      return checked_int(overflow, r);
    }
    if (op == "/") {
      if (y == 0) fail("chat template: division by zero");
      return Value::from_float(x / y);
    }
    if (op == "//" || op == "%") {
      if (y == 0) fail("chat template: integer division or modulo by zero");
      if (!floating) {
        int64_t p = int_of(a), q = int_of(b);
        if (p == INT64_MIN && q == -1) {  // the one quotient past int64
          if (op == "%") return Value::from_int(0);
          checked_int(true, 0);
        }
        int64_t div = p / q, mod = p % q;
        if (mod != 0 && ((mod < 0) != (q < 0))) {  // Python floors toward negative infinity
          --div;
          mod += q;
        }
        return Value::from_int(op == "//" ? div : mod);
      }
      // CPython's float_divmod, signs of zeros included.
      double mod = std::fmod(x, y);
      double div = (x - mod) / y;
      if (mod != 0) {
        if ((y < 0) != (mod < 0)) {
          mod += y;
          div -= 1.0;
        }
      } else {
        mod = std::copysign(0.0, y);
      }
      double floordiv;
      if (div != 0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
      } else {
        floordiv = std::copysign(0.0, x / y);
      }
      return Value::from_float(op == "//" ? floordiv : mod);
    }
    if (op == "**") {
      if (!floating && int_of(b) >= 0) {  // by squaring: 1 ** (2**62) must not take 2**62 steps
        int64_t result = 1, base = int_of(a);
        bool overflow = false;
        for (int64_t e = int_of(b); e > 0; e >>= 1) {
          if (e & 1) overflow |= __builtin_mul_overflow(result, base, &result);
          if (e > 1) overflow |= __builtin_mul_overflow(base, base, &base);
          if (overflow) break;
        }
        return checked_int(overflow, result);
      }
      return Value::from_float(std::pow(x, y));
    }
  }
  if (op == "+" && a.is_string() && b.is_string()) return checked_string(a.text + b.text);
  if (op == "+" && a.is_list() && b.is_list() && a.is_tuple == b.is_tuple) {
    List out = *a.list;
    out.insert(out.end(), b.list->begin(), b.list->end());
    return Value::from_list(std::move(out), a.is_tuple);
  }
  if (op == "*" && (a.is_string() || a.is_list()) &&
      (b.kind == Kind::kInt || b.kind == Kind::kBool))
    return repeat(a, int_of(b));
  if (op == "*" && (b.is_string() || b.is_list()) &&
      (a.kind == Kind::kInt || a.kind == Kind::kBool))
    return repeat(b, int_of(a));
  if (op == "+" && a.is_string())
    fail("chat template: can only concatenate str (not \"", type_name(b), "\") to str");
  type_error(op, a, b);
}

Value slice_of(const Value& obj, const Value* start, const Value* stop, const Value* step) {
  if (obj.is_undefined()) fail_undefined(obj);
  auto bound = [](const Value* v) -> const Value* { return (v && !v->is_none()) ? v : nullptr; };
  start = bound(start);
  stop = bound(stop);
  step = bound(step);
  for (const Value* v : {start, stop, step})
    if (v && v->kind != Kind::kInt && v->kind != Kind::kBool)
      fail("chat template: slice indices must be integers or None");
  int64_t st = step ? int_of(*step) : 1;
  if (st == 0) fail("chat template: slice step cannot be zero");
  List items;
  std::vector<std::string> cps;
  int64_t n;
  if (obj.is_list()) {
    n = static_cast<int64_t>(obj.list->size());
  } else if (obj.is_string()) {
    cps = split_code_points(obj.text);
    n = static_cast<int64_t>(cps.size());
  } else if (obj.is_dict()) {  // jinja compiles slices to a plain Python subscript
    fail("chat template: unhashable type: 'slice'");
  } else {
    fail("chat template: '", type_name(obj), "' object is not subscriptable");
  }
  // Python's slice.indices(): clamp into range, defaults depend on the step's sign.
  auto clamp = [&](const Value* v, int64_t dflt) {
    if (!v) return dflt;
    int64_t i = int_of(*v);
    if (i < 0) i += n;
    if (st > 0) return std::min(std::max(i, int64_t{0}), n);
    return std::min(std::max(i, int64_t{-1}), n - 1);
  };
  int64_t b = clamp(start, st > 0 ? 0 : n - 1);
  int64_t e = clamp(stop, st > 0 ? n : -1);
  std::string text;
  for (int64_t i = b; st > 0 ? i < e : i > e;) {
    if (obj.is_list())
      items.push_back((*obj.list)[i]);
    else
      text += cps[i];
    if (__builtin_add_overflow(i, st, &i)) break;  // a step of 2**63-1 ends the slice
  }
  if (obj.is_string()) return Value::from_string(text);
  return Value::from_list(std::move(items), obj.is_tuple);
}

Value global_function(const std::string& name) {
  if (name == "raise_exception") {
    return Value::from_function(name, [](CallArgs& args) -> Value {
      Params p("raise_exception", args, {"message"});
      fail("chat template: raise_exception: ", p.has(0) ? to_str(*p.get(0)) : std::string());
    });
  }
  if (name == "namespace" || name == "dict") {
    bool is_ns = name == "namespace";
    return Value::from_function(name, [is_ns, name](CallArgs& args) {
      Dict d;
      if (args.positional.size() > 1)
        fail("chat template: ", name, "() takes at most one positional argument");
      if (!args.positional.empty()) {
        if (!args.positional[0].is_dict())
          fail("chat template: ", name, "() positional argument must be a dict");
        d = *args.positional[0].dict;
      }
      for (auto& [k, v] : args.keyword) d.set(k, v);
      if (!is_ns) return Value::from_dict(std::move(d));
      Value ns;
      ns.kind = Kind::kNamespace;
      ns.ns = std::make_shared<Dict>(std::move(d));
      return ns;
    });
  }
  if (name == "range") {
    return Value::from_function(name, [](CallArgs& args) {
      if (!args.keyword.empty() || args.positional.empty() || args.positional.size() > 3)
        fail("chat template: range() takes 1 to 3 integers");
      for (const Value& v : args.positional)
        if (v.kind != Kind::kInt && v.kind != Kind::kBool)
          fail("chat template: range() takes integers");
      int64_t start = 0, stop, step = 1;
      if (args.positional.size() == 1) {
        stop = int_of(args.positional[0]);
      } else {
        start = int_of(args.positional[0]);
        stop = int_of(args.positional[1]);
        if (args.positional.size() == 3) step = int_of(args.positional[2]);
      }
      if (step == 0) fail("chat template: range() arg 3 must not be zero");
      List out;
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (out.size() >= 1'000'000) fail("chat template: range() longer than 1000000 items");
        out.push_back(Value::from_int(i));
      }
      return Value::from_list(std::move(out));
    });
  }
  if (name == "strftime_now") {
    return Value::from_function(name, [](CallArgs& args) {
      Params p("strftime_now", args, {"format"});
      if (!p.has(0) || !p.get(0)->is_string())
        fail("chat template: strftime_now() needs a format string");
      std::time_t now = std::time(nullptr);
      std::tm local{};
      localtime_r(&now, &local);
      char buf[256];
      size_t len = std::strftime(buf, sizeof buf, p.get(0)->text.c_str(), &local);
      return Value::from_string(std::string(buf, len));
    });
  }
  return Value::undefined("'" + name + "' is undefined");
}

}  // namespace qlm::chat
