// Tree-walking evaluator. Scopes follow Jinja: each loop iteration, macro call and set block
// gets a fresh frame, seeded with the names scopes.h finds undefined there; ifs share frames.
#include "chat/evaluator.h"

#include <cmath>
#include <ctime>

#include "base/error.h"
#include "chat/builtins.h"

namespace qlm::chat {
namespace {

enum class Flow { kNormal, kBreak, kContinue };

struct Frame {
  Dict vars;
  bool isolated = false;  // a macro frame: lookups skip to the template's top-level frame
};

class Evaluator {
 public:
  Evaluator(const Dict& variables, const RenderLimits& limits) : limits_(limits) {
    frames_.push_back(Frame{variables, false});
  }

  // Enters a scope: its names that jinja compiles as undefined-at-entry shadow outer ones.
  void push_scope(const std::vector<std::string>& undefined, bool isolated = false) {
    frames_.push_back(Frame{{}, isolated});
    declare_undefined(undefined);
  }
  void declare_undefined(const std::vector<std::string>& names) {
    for (const std::string& name : names)
      assign(name, Value::undefined("'" + name + "' is undefined"));
  }

  std::string run(const Body& body) {
    exec(body);
    return std::move(out_);
  }

 private:
  [[noreturn]] static void error(const std::string& what, int line) {
    fail("chat template: ", what, " at line ", line);
  }

  // Counts every byte written, captured ones (macros, set blocks) included, so nested
  // captures cannot multiply the memory a render uses.
  void emit(const std::string& s) {
    emitted_ += s.size();
    if (emitted_ > limits_.max_output_bytes)
      fail("chat template: output exceeds the limit of ", limits_.max_output_bytes, " bytes");
    out_ += s;
  }

  Value lookup(const std::string& name) {
    for (size_t i = frames_.size(); i-- > 0;) {
      if (const Value* v = frames_[i].vars.find(name)) return *v;
      if (frames_[i].isolated) {
        if (const Value* v = frames_[0].vars.find(name)) return *v;
        break;
      }
    }
    if (Value g = global_function(name); !g.is_undefined()) return g;
    return Value::undefined("'" + name + "' is undefined");
  }

  void assign(const std::string& name, Value v) { frames_.back().vars.set(name, std::move(v)); }

  void assign_targets(const std::vector<std::string>& targets, const Value& v, int line) {
    if (targets.size() == 1) {
      assign(targets[0], v);
      return;
    }
    List items = iterate(v);
    if (items.size() != targets.size())
      error("cannot unpack " + std::to_string(items.size()) + " values into " +
                std::to_string(targets.size()) + " names",
            line);
    for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], items[i]);
  }

  // ---- statements ----

  Flow exec(const Body& body) {
    for (const StmtPtr& s : body) {
      Flow f = exec_with_line(*s);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  // Errors raised by builtins carry no position; the innermost statement adds its line.
  Flow exec_with_line(const Stmt& s) {
    try {
      return exec(s);
    } catch (const Error& e) {
      std::string msg = e.what();
      if (msg.find(" at line ") != std::string::npos) throw;
      throw Error(msg + " at line " + std::to_string(s.line));
    }
  }

  Flow exec(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::kText:
        emit(s.text);
        return Flow::kNormal;
      case StmtKind::kPrint:
        emit(to_str(eval(*s.expr)));
        return Flow::kNormal;
      case StmtKind::kIf:
        for (const auto& [cond, body] : s.branches)
          if (truthy(eval(*cond))) return exec(body);
        return exec(s.else_body);
      case StmtKind::kFor:
        return exec_for(s);
      case StmtKind::kSet: {
        Value v = eval(*s.expr);
        if (s.attr.empty()) {
          assign_targets(s.targets, v, s.line);
          return Flow::kNormal;
        }
        Value target = lookup(s.targets[0]);
        if (target.kind != Kind::kNamespace)
          error("can only assign attributes of a namespace() ('" + s.targets[0] + "' is " +
                    type_name(target) + ")",
                s.line);
        target.ns->set(s.attr, std::move(v));
        return Flow::kNormal;
      }
      case StmtKind::kSetBlock: {
        std::string saved = std::move(out_);
        out_.clear();
        push_scope(s.body_undefined);
        Flow f = exec(s.body);
        frames_.pop_back();
        std::string captured = std::move(out_);
        out_ = std::move(saved);
        assign(s.text, Value::from_string(std::move(captured)));
        return f;
      }
      case StmtKind::kMacro:
        assign(s.text, make_macro(s));
        return Flow::kNormal;
      case StmtKind::kBreak:
        return Flow::kBreak;
      case StmtKind::kContinue:
        return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  void count_iteration() {
    if (++iterations_ > limits_.max_loop_iterations)
      fail("chat template: more than ", limits_.max_loop_iterations, " loop iterations");
  }

  Flow exec_for(const Stmt& s) {
    Value seq = eval(*s.expr);
    if (!seq.is_list() && !seq.is_dict() && !seq.is_string() && !seq.is_undefined())
      error(std::string("'") + type_name(seq) + "' object is not iterable", s.line);
    List items = iterate(seq);
    if (s.filter) {
      List kept;
      for (const Value& item : items) {
        count_iteration();
        frames_.push_back(Frame{});
        assign_targets(s.targets, item, s.line);
        bool keep = truthy(eval(*s.filter));
        frames_.pop_back();
        if (keep) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      push_scope(s.else_undefined);
      Flow f = exec(s.else_body);
      frames_.pop_back();
      return f == Flow::kNormal ? Flow::kNormal : f;
    }
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      count_iteration();
      Dict loop;
      loop.items.reserve(12);
      loop.set("index0", Value::from_int(i));
      loop.set("index", Value::from_int(i + 1));
      loop.set("revindex0", Value::from_int(n - i - 1));
      loop.set("revindex", Value::from_int(n - i));
      loop.set("first", Value::from_bool(i == 0));
      loop.set("last", Value::from_bool(i == n - 1));
      loop.set("length", Value::from_int(n));
      loop.set("depth", Value::from_int(1));
      loop.set("depth0", Value::from_int(0));
      loop.set("previtem", i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
      loop.set("nextitem", i + 1 < n ? items[i + 1] : Value::undefined("there is no next item"));
      loop.set("cycle", Value::from_function("loop.cycle", [i](CallArgs& args) {
                 if (args.positional.empty() || !args.keyword.empty())
                   fail("chat template: loop.cycle() needs positional arguments");
                 return args.positional[static_cast<size_t>(i) % args.positional.size()];
               }));
      push_scope(s.body_undefined);
      assign("loop", Value::from_dict(std::move(loop)));
      assign_targets(s.targets, items[i], s.line);
      Flow f = exec(s.body);
      frames_.pop_back();
      if (f == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  Value make_macro(const Stmt& s) {
    const Stmt* def = &s;
    return Value::from_function(s.text,
                                [this, def](CallArgs& args) { return call_macro(*def, args); });
  }

  Value call_macro(const Stmt& def, CallArgs& args) {
    if (++macro_depth_ > limits_.max_macro_depth)
      error("macro recursion deeper than " + std::to_string(limits_.max_macro_depth), def.line);
    if (args.positional.size() > def.params.size())
      error("macro '" + def.text + "' takes " + std::to_string(def.params.size()) + " arguments",
            def.line);
    push_scope(def.body_undefined, true);
    for (size_t i = 0; i < def.params.size(); ++i) {
      const auto& [name, default_expr] = def.params[i];
      const Value* passed = i < args.positional.size() ? &args.positional[i] : nullptr;
      for (const auto& [k, v] : args.keyword)
        if (k == name) passed = &v;
      if (passed)
        assign(name, *passed);
      else if (default_expr)
        assign(name, eval(*default_expr));
      else
        assign(name, Value::undefined("parameter '" + name + "' was not provided"));
    }
    for (const auto& [k, v] : args.keyword) {
      bool known = false;
      for (const auto& param : def.params) known |= param.first == k;
      if (!known)
        error("macro '" + def.text + "' got an unexpected keyword argument '" + k + "'", def.line);
    }
    std::string saved = std::move(out_);
    out_.clear();
    exec(def.body);
    std::string result = std::move(out_);
    out_ = std::move(saved);
    frames_.pop_back();
    --macro_depth_;
    return Value::from_string(std::move(result));
  }

  // ---- expressions ----

  CallArgs eval_args(const Expr& e, size_t first) {
    CallArgs args;
    for (size_t i = first; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i]));
    for (const auto& [k, v] : e.kwargs) args.keyword.emplace_back(k, eval(*v));
    return args;
  }

  Value eval(const Expr& e);

  const RenderLimits& limits_;
  std::vector<Frame> frames_;
  std::string out_;
  size_t iterations_ = 0;
  size_t emitted_ = 0;
  int macro_depth_ = 0;
};

Value Evaluator::eval(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal;
    case ExprKind::kName:
      return lookup(e.name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      List items;
      for (const auto& a : e.args) items.push_back(eval(*a));
      return Value::from_list(std::move(items), e.kind == ExprKind::kTuple);
    }
    case ExprKind::kDict: {
      Dict d;
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i]);
        if (!k.is_string()) error("only string keys are supported in dict literals", e.line);
        d.set(k.text, eval(*e.args[i + 1]));
      }
      return Value::from_dict(std::move(d));
    }
    case ExprKind::kGetAttr:
      return get_attr(eval(*e.args[0]), e.name);
    case ExprKind::kGetItem:
      return get_item(eval(*e.args[0]), eval(*e.args[1]));
    case ExprKind::kSlice: {
      Value obj = eval(*e.args[0]);
      Value parts[3];
      for (int i = 0; i < 3; ++i)
        if (e.args[i + 1]) parts[i] = eval(*e.args[i + 1]);
      return slice_of(obj, e.args[1] ? &parts[0] : nullptr, e.args[2] ? &parts[1] : nullptr,
                      e.args[3] ? &parts[2] : nullptr);
    }
    case ExprKind::kCall: {
      Value callee = eval(*e.args[0]);
      if (callee.is_undefined()) fail_undefined(callee);
      if (callee.kind != Kind::kCallable)
        error(std::string("'") + type_name(callee) + "' object is not callable", e.line);
      CallArgs args = eval_args(e, 1);
      return (*callee.function)(args);
    }
    case ExprKind::kFilter: {
      Value operand = eval(*e.args[0]);
      CallArgs args = eval_args(e, 1);
      return apply_filter(e.name, operand, args);
    }
    case ExprKind::kTest: {
      Value operand = eval(*e.args[0]);
      CallArgs args = eval_args(e, 1);
      return Value::from_bool(apply_test(e.name, operand, args) != e.negated);
    }
    case ExprKind::kNot:
      return Value::from_bool(!truthy(eval(*e.args[0])));
    case ExprKind::kNeg:
    case ExprKind::kPos: {
      Value v = eval(*e.args[0]);
      if (v.is_undefined()) fail_undefined(v);
      if (!v.is_number())
        error(std::string("bad operand type for unary ") + (e.kind == ExprKind::kNeg ? "-" : "+") +
                  ": '" + type_name(v) + "'",
              e.line);
      if (e.kind == ExprKind::kPos) return v.kind == Kind::kBool ? Value::from_int(v.boolean) : v;
      if (v.kind == Kind::kFloat) return Value::from_float(-v.number);
      int64_t negated = 0;
      const bool overflow = __builtin_sub_overflow(int64_t{0}, v.kind == Kind::kBool ? v.boolean : v.integer, &negated);
      return checked_int(overflow, negated);
    }
    case ExprKind::kBinary:
      return binary_op(e.name, eval(*e.args[0]), eval(*e.args[1]));
    case ExprKind::kAnd: {
      Value a = eval(*e.args[0]);
      return truthy(a) ? eval(*e.args[1]) : a;
    }
    case ExprKind::kOr: {
      Value a = eval(*e.args[0]);
      return truthy(a) ? a : eval(*e.args[1]);
    }
    case ExprKind::kCompare: {
      Value left = eval(*e.args[0]);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1]);
        const std::string& op = e.ops[i];
        bool ok;
        if (op == "==")
          ok = equals(left, right);
        else if (op == "!=")
          ok = !equals(left, right);
        else if (op == "in")
          ok = contains(right, left);
        else if (op == "notin")
          ok = !contains(right, left);
        else {
          if (left.is_undefined()) fail_undefined(left);
          if (right.is_undefined()) fail_undefined(right);
          if (op == "<")
            ok = less_than(left, right);
          else if (op == ">")
            ok = less_than(right, left);
          else if (op == "<=")
            ok = !less_than(right, left);
          else
            ok = !less_than(left, right);
        }
        if (!ok) return Value::from_bool(false);
        left = std::move(right);
      }
      return Value::from_bool(true);
    }
    case ExprKind::kCondExpr:
      if (truthy(eval(*e.args[1]))) return eval(*e.args[0]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined(
          "the inline if-expression evaluated to false and no else section was defined");
  }
  error("unknown expression", e.line);
}

}  // namespace

std::string render_template(const Template& tmpl, const Dict& variables,
                            const RenderLimits& limits) {
  Evaluator evaluator(variables, limits);
  evaluator.declare_undefined(tmpl.undefined);
  return evaluator.run(tmpl.body);
}

}  // namespace qlm::chat
