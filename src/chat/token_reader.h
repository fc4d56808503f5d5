// Token cursor shared by the statement and expression parsers: lookahead, matching and the
// error helpers that put "chat template: ... at line L" on every parse failure.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "base/error.h"
#include "chat/lexer.h"

namespace qlm::chat {

struct TokenState {
  std::vector<Token> tokens;  // ends with kEof
  size_t pos = 0;
  int depth = 0;  // current nesting of expressions and blocks
};

// Bounds parser recursion so a hostile template cannot overflow the stack.
class NestingGuard {
 public:
  static constexpr int kMaxDepth = 200;
  NestingGuard(TokenState& state, int line) : state_(state) {
    if (++state_.depth > kMaxDepth)
      fail("chat template: nesting deeper than ", kMaxDepth, " levels at line ", line);
  }
  ~NestingGuard() { --state_.depth; }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;

 private:
  TokenState& state_;
};

class TokenReader {
 public:
  explicit TokenReader(TokenState& state) : state_(state) {}

  const Token& cur() const { return state_.tokens[state_.pos]; }
  const Token& peek(size_t n = 1) const {
    return state_.tokens[std::min(state_.pos + n, state_.tokens.size() - 1)];
  }
  Token next() {
    return state_.tokens[state_.pos < state_.tokens.size() - 1 ? state_.pos++ : state_.pos];
  }

  [[noreturn]] void error(const std::string& what, int line) const {
    fail("chat template: ", what, " at line ", line);
  }
  [[noreturn]] void unsupported(const std::string& what, int line) const {
    error("unsupported construct '" + what + "'", line);
  }

  bool is_op(const char* op) const { return cur().type == TokenType::kOp && cur().text == op; }
  bool is_name(const char* name) const {
    return cur().type == TokenType::kName && cur().text == name;
  }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    ++state_.pos;
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    ++state_.pos;
    return true;
  }
  void expect_op(const char* op) {
    if (!skip_op(op))
      error(std::string("expected '") + op + "', got '" + describe(cur()) + "'", cur().line);
  }
  std::string expect_name() {
    if (cur().type != TokenType::kName)
      error("expected a name, got '" + describe(cur()) + "'", cur().line);
    return next().text;
  }
  void expect_block_end() {
    if (cur().type != TokenType::kBlockEnd)
      error("expected '%}', got '" + describe(cur()) + "'", cur().line);
    ++state_.pos;
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::kBlockEnd:
        return "%}";
      case TokenType::kVarEnd:
        return "}}";
      case TokenType::kEof:
        return "end of template";
      default:
        return t.text;
    }
  }

 protected:
  TokenState& state_;
};

}  // namespace qlm::chat
