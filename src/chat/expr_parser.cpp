// Expression parsing, rule by rule after jinja2/parser.py (parse_condexpr ... parse_primary).
#include "chat/expr_parser.h"

#include "chat/builtins.h"

namespace qlm::chat {
namespace {

ExprPtr make(ExprKind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}
ExprPtr unary(ExprKind kind, ExprPtr operand, int line) {
  ExprPtr e = make(kind, line);
  e->args.push_back(std::move(operand));
  return e;
}
ExprPtr binary(ExprKind kind, std::string op, ExprPtr a, ExprPtr b, int line) {
  ExprPtr e = make(kind, line);
  e->name = std::move(op);
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return e;
}

}  // namespace

ExprPtr make_literal(Value v, int line) {
  ExprPtr e = make(ExprKind::kLiteral, line);
  e->literal = std::move(v);
  return e;
}

ExprPtr ExprParser::parse_expression() {
  ExprPtr expr = parse_or();
  while (is_name("if")) {
    int line = next().line;
    ExprPtr cond = parse_or();
    ExprPtr otherwise;
    if (skip_name("else")) otherwise = parse_expression();
    ExprPtr e = make(ExprKind::kCondExpr, line);
    e->args.push_back(std::move(expr));
    e->args.push_back(std::move(cond));
    e->args.push_back(std::move(otherwise));
    expr = std::move(e);
  }
  return expr;
}

ExprPtr ExprParser::parse_or() {
  ExprPtr left = parse_and();
  while (is_name("or")) {
    int line = next().line;
    left = binary(ExprKind::kOr, "or", std::move(left), parse_and(), line);
  }
  return left;
}

ExprPtr ExprParser::parse_and() {
  ExprPtr left = parse_not();
  while (is_name("and")) {
    int line = next().line;
    left = binary(ExprKind::kAnd, "and", std::move(left), parse_not(), line);
  }
  return left;
}

ExprPtr ExprParser::parse_not() {
  if (is_name("not")) {
    int line = next().line;
    return unary(ExprKind::kNot, parse_not(), line);
  }
  return parse_compare();
}

ExprPtr ExprParser::parse_compare() {
  int line = cur().line;
  ExprPtr first = parse_math1();
  ExprPtr cmp;
  while (true) {
    std::string op;
    if (cur().type == TokenType::kOp &&
        (is_op("==") || is_op("!=") || is_op("<") || is_op("<=") || is_op(">") || is_op(">="))) {
      op = next().text;
    } else if (skip_name("in")) {
      op = "in";
    } else if (is_name("not") && peek().type == TokenType::kName && peek().text == "in") {
      state_.pos += 2;
      op = "notin";
    } else {
      break;
    }
    if (!cmp) {
      cmp = make(ExprKind::kCompare, line);
      cmp->args.push_back(std::move(first));
    }
    cmp->ops.push_back(op);
    cmp->args.push_back(parse_math1());
  }
  return cmp ? std::move(cmp) : std::move(first);
}

ExprPtr ExprParser::parse_math1() {
  ExprPtr left = parse_concat();
  while (is_op("+") || is_op("-")) {
    Token op = next();
    left = binary(ExprKind::kBinary, op.text, std::move(left), parse_concat(), op.line);
  }
  return left;
}

ExprPtr ExprParser::parse_concat() {
  ExprPtr left = parse_math2();
  while (is_op("~")) {
    Token op = next();
    left = binary(ExprKind::kBinary, "~", std::move(left), parse_math2(), op.line);
  }
  return left;
}

ExprPtr ExprParser::parse_math2() {
  ExprPtr left = parse_pow();
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    Token op = next();
    left = binary(ExprKind::kBinary, op.text, std::move(left), parse_pow(), op.line);
  }
  return left;
}

ExprPtr ExprParser::parse_pow() {
  ExprPtr left = parse_unary(true);
  while (is_op("**")) {
    Token op = next();
    left = binary(ExprKind::kBinary, "**", std::move(left), parse_unary(true), op.line);
  }
  return left;
}

ExprPtr ExprParser::parse_unary(bool with_filter) {
  int line = cur().line;
  NestingGuard guard(state_, line);
  ExprPtr node;
  if (skip_op("-")) {
    node = unary(ExprKind::kNeg, parse_unary(false), line);
  } else if (skip_op("+")) {
    node = unary(ExprKind::kPos, parse_unary(false), line);
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_expr(std::move(node));
  return node;
}

ExprPtr ExprParser::parse_primary() {
  const Token& t = cur();
  int line = t.line;
  switch (t.type) {
    case TokenType::kName: {
      std::string n = next().text;
      if (n == "true" || n == "True") return make_literal(Value::from_bool(true), line);
      if (n == "false" || n == "False") return make_literal(Value::from_bool(false), line);
      if (n == "none" || n == "None") return make_literal(Value::none(), line);
      ExprPtr e = make(ExprKind::kName, line);
      e->name = n;
      return e;
    }
    case TokenType::kString: {
      std::string s = next().text;
      while (cur().type == TokenType::kString) s += next().text;  // adjacent literals join
      return make_literal(Value::from_string(std::move(s)), line);
    }
    case TokenType::kInt:
      return make_literal(Value::from_int(next().integer), line);
    case TokenType::kFloat:
      return make_literal(Value::from_float(next().number), line);
    case TokenType::kOp:
      if (skip_op("(")) return parse_paren(line);
      if (skip_op("[")) {
        ExprPtr e = make(ExprKind::kList, line);
        while (!skip_op("]")) {
          if (!e->args.empty()) {
            expect_op(",");
            if (skip_op("]")) break;
          }
          e->args.push_back(parse_expression());
        }
        return e;
      }
      if (skip_op("{")) {
        ExprPtr e = make(ExprKind::kDict, line);
        while (!skip_op("}")) {
          if (!e->args.empty()) {
            expect_op(",");
            if (skip_op("}")) break;
          }
          e->args.push_back(parse_expression());
          expect_op(":");
          e->args.push_back(parse_expression());
        }
        return e;
      }
      break;
    default:
      break;
  }
  error("unexpected '" + describe(t) + "'", line);
}

ExprPtr ExprParser::parse_paren(int line) {
  if (skip_op(")")) return make(ExprKind::kTuple, line);
  ExprPtr first = parse_expression();
  if (skip_op(")")) return first;
  ExprPtr tuple = make(ExprKind::kTuple, line);
  tuple->args.push_back(std::move(first));
  while (skip_op(",")) {
    if (is_op(")")) break;
    tuple->args.push_back(parse_expression());
  }
  expect_op(")");
  return tuple;
}

ExprPtr ExprParser::parse_postfix(ExprPtr node) {
  while (true) {
    int line = cur().line;
    if (skip_op(".")) {
      ExprPtr e = make(ExprKind::kGetAttr, line);
      if (cur().type == TokenType::kInt) {  // foo.0 is foo[0] in jinja
        e->kind = ExprKind::kGetItem;
        e->args.push_back(std::move(node));
        e->args.push_back(make_literal(Value::from_int(next().integer), line));
      } else {
        e->name = expect_name();
        e->args.push_back(std::move(node));
      }
      node = std::move(e);
    } else if (skip_op("[")) {
      node = parse_subscript(std::move(node), line);
    } else if (is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr ExprParser::parse_subscript(ExprPtr obj, int line) {
  ExprPtr parts[3];
  bool is_slice = false;
  if (!is_op(":")) parts[0] = parse_expression();
  if (skip_op(":")) {
    is_slice = true;
    if (!is_op("]") && !is_op(":")) parts[1] = parse_expression();
    if (skip_op(":") && !is_op("]")) parts[2] = parse_expression();
  }
  if (is_op(",")) unsupported("tuple subscript", line);
  expect_op("]");
  ExprPtr e = make(is_slice ? ExprKind::kSlice : ExprKind::kGetItem, line);
  e->args.push_back(std::move(obj));
  for (int i = 0; i < (is_slice ? 3 : 1); ++i) e->args.push_back(std::move(parts[i]));
  return e;
}

// "(" args ")" appended to `e` (callee or filter/test operand already in args[0]).
void ExprParser::parse_call_args(Expr& e) {
  expect_op("(");
  bool first = true;
  while (!skip_op(")")) {
    if (!first) {
      expect_op(",");
      if (skip_op(")")) break;
    }
    first = false;
    if (is_op("*") || is_op("**")) unsupported("*args/**kwargs in a call", cur().line);
    if (cur().type == TokenType::kName && peek().type == TokenType::kOp && peek().text == "=") {
      std::string key = next().text;
      ++state_.pos;
      e.kwargs.emplace_back(key, parse_expression());
    } else {
      if (!e.kwargs.empty()) error("positional argument after keyword argument", cur().line);
      e.args.push_back(parse_expression());
    }
  }
}

ExprPtr ExprParser::parse_call(ExprPtr callee) {
  ExprPtr e = make(ExprKind::kCall, cur().line);
  e->args.push_back(std::move(callee));
  parse_call_args(*e);
  return e;
}

ExprPtr ExprParser::parse_filter_expr(ExprPtr node) {
  while (true) {
    int line = cur().line;
    if (skip_op("|")) {
      ExprPtr e = make(ExprKind::kFilter, line);
      e->name = expect_name();
      while (skip_op(".")) {
        e->name += '.';
        e->name += expect_name();
      }
      if (!is_known_filter(e->name)) unsupported("filter " + e->name, line);
      e->args.push_back(std::move(node));
      if (is_op("(")) parse_call_args(*e);
      node = std::move(e);
    } else if (skip_name("is")) {
      ExprPtr e = make(ExprKind::kTest, line);
      e->negated = skip_name("not");
      e->name = expect_name();
      while (skip_op(".")) {
        e->name += '.';
        e->name += expect_name();
      }
      if (!is_known_test(e->name)) unsupported("test " + e->name, line);
      e->args.push_back(std::move(node));
      const Token& t = cur();
      if (is_op("(")) {
        parse_call_args(*e);
      } else if ((t.type == TokenType::kName || t.type == TokenType::kString ||
                  t.type == TokenType::kInt || t.type == TokenType::kFloat || is_op("[") ||
                  is_op("{")) &&
                 !is_name("else") && !is_name("or") && !is_name("and")) {
        if (is_name("is")) error("cannot chain multiple tests with 'is'", t.line);
        e->args.push_back(parse_postfix(parse_primary()));
      }
      node = std::move(e);
    } else if (is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

}  // namespace qlm::chat
