// Expression parser: jinja2's grammar and precedence, condexpr > or > and > not > compare >
// + - > ~ > * / // % > ** > unary > postfix (attribute, subscript, call) and filters/tests.
#pragma once

#include "chat/ast.h"
#include "chat/token_reader.h"

namespace qlm::chat {

ExprPtr make_literal(Value v, int line);

class ExprParser : public TokenReader {
 public:
  explicit ExprParser(TokenState& state) : TokenReader(state) {}
  ExprPtr parse_expression();
  // Without the trailing `x if c else y`: a for loop's iterable, where `if` starts a filter.
  ExprPtr parse_or();

 private:
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_paren(int line);
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr obj, int line);
  void parse_call_args(Expr& e);
  ExprPtr parse_call(ExprPtr callee);
  ExprPtr parse_filter_expr(ExprPtr node);
};

}  // namespace qlm::chat
