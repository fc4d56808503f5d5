// Recursive-descent parser following jinja2/parser.py's grammar and operator precedence:
// condexpr > or > and > not > compare > + - > ~ > * / // % > ** > unary > postfix/filters.
#include "chat/parser.h"

#include <algorithm>
#include <set>

#include "base/error.h"
#include "chat/builtins.h"
#include "chat/lexer.h"

namespace qlm::chat {
namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Body parse_all() {
    std::string end_tag;
    Body body = parse_body({}, end_tag);
    return body;
  }

 private:
  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek(size_t n = 1) const { return tokens_[std::min(pos_ + n, tokens_.size() - 1)]; }
  Token next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  [[noreturn]] void error(const std::string& what, int line) const {
    fail("chat template: ", what, " at line ", line);
  }
  [[noreturn]] void unsupported(const std::string& what, int line) const {
    error("unsupported construct '" + what + "'", line);
  }

  bool is_op(const char* op) const { return cur().type == TokenType::kOp && cur().text == op; }
  bool is_name(const char* name) const { return cur().type == TokenType::kName && cur().text == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    ++pos_;
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    ++pos_;
    return true;
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) error(std::string("expected '") + op + "', got '" + describe(cur()) + "'", cur().line);
  }
  std::string expect_name() {
    if (cur().type != TokenType::kName) error("expected a name, got '" + describe(cur()) + "'", cur().line);
    return next().text;
  }
  void expect_block_end() {
    if (cur().type != TokenType::kBlockEnd) error("expected '%}', got '" + describe(cur()) + "'", cur().line);
    ++pos_;
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::kBlockEnd: return "%}";
      case TokenType::kVarEnd: return "}}";
      case TokenType::kEof: return "end of template";
      default: return t.text;
    }
  }

  // Parses statements until a block tag whose name is in `ends` (consumed; its name returned
  // in end_tag, the tag's remaining tokens left for the caller) or the end of the template.
  Body parse_body(const std::set<std::string>& ends, std::string& end_tag) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::kEof) {
        if (!ends.empty()) error("unexpected end of template, expected '" + *ends.begin() + "'", t.line);
        return body;
      }
      if (t.type == TokenType::kData) {
        auto s = std::make_unique<Stmt>(Stmt{StmtKind::kText, t.line});
        s->text = t.text;
        body.push_back(std::move(s));
        ++pos_;
      } else if (t.type == TokenType::kVarBegin) {
        ++pos_;
        auto s = std::make_unique<Stmt>(Stmt{StmtKind::kPrint, t.line});
        s->expr = parse_expression();
        if (cur().type != TokenType::kVarEnd) error("expected '}}', got '" + describe(cur()) + "'", cur().line);
        ++pos_;
        body.push_back(std::move(s));
      } else if (t.type == TokenType::kBlockBegin) {
        ++pos_;
        if (cur().type != TokenType::kName) error("expected a statement name after '{%'", cur().line);
        std::string name = cur().text;
        if (ends.count(name)) {
          ++pos_;
          end_tag = name;
          return body;
        }
        if (StmtPtr s = parse_statement()) body.push_back(std::move(s));
      } else {
        error("unexpected '" + describe(t) + "'", t.line);
      }
    }
  }

  StmtPtr parse_statement() {
    int line = cur().line;
    std::string name = next().text;
    if (name == "if") return parse_if(line);
    if (name == "for") return parse_for(line);
    if (name == "set") return parse_set(line);
    if (name == "macro") return parse_macro(line);
    if (name == "print") {
      auto s = std::make_unique<Stmt>(Stmt{StmtKind::kPrint, line});
      s->expr = parse_expression();
      expect_block_end();
      return s;
    }
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) error("'" + name + "' outside of a loop", line);
      expect_block_end();
      return std::make_unique<Stmt>(Stmt{name == "break" ? StmtKind::kBreak : StmtKind::kContinue, line});
    }
    if (name == "generation") {
      // Hugging Face's extension marking assistant text for masks; it renders its body as is.
      expect_block_end();
      std::string end_tag;
      Body inner = parse_body({"endgeneration"}, end_tag);
      expect_block_end();
      auto s = std::make_unique<Stmt>(Stmt{StmtKind::kIf, line});
      s->branches.emplace_back(literal(Value::from_bool(true), line), std::move(inner));
      return s;
    }
    static const std::set<std::string> kStrayEnds = {"elif", "else", "endif", "endfor", "endset", "endmacro", "endgeneration"};
    if (kStrayEnds.count(name)) error("unexpected '{% " + name + " %}'", line);
    unsupported(name, line);
  }

  StmtPtr parse_if(int line) {
    auto s = std::make_unique<Stmt>(Stmt{StmtKind::kIf, line});
    ExprPtr cond = parse_expression();
    expect_block_end();
    while (true) {
      std::string end_tag;
      Body body = parse_body({"elif", "else", "endif"}, end_tag);
      s->branches.emplace_back(std::move(cond), std::move(body));
      if (end_tag == "elif") {
        cond = parse_expression();
        expect_block_end();
        continue;
      }
      expect_block_end();
      if (end_tag == "else") {
        s->else_body = parse_body({"endif"}, end_tag);
        expect_block_end();
      }
      return s;
    }
  }

  StmtPtr parse_for(int line) {
    auto s = std::make_unique<Stmt>(Stmt{StmtKind::kFor, line});
    s->targets = parse_targets();
    if (!skip_name("in")) error("expected 'in' in for loop", cur().line);
    s->expr = parse_or();  // jinja parses the iterable without a condexpr so 'if' can filter
    if (skip_name("if")) s->filter = parse_expression();
    if (is_name("recursive")) unsupported("recursive for loop", line);
    expect_block_end();
    ++loop_depth_;
    std::string end_tag;
    s->body = parse_body({"else", "endfor"}, end_tag);
    --loop_depth_;
    expect_block_end();
    if (end_tag == "else") {
      s->else_body = parse_body({"endfor"}, end_tag);
      expect_block_end();
    }
    return s;
  }

  std::vector<std::string> parse_targets() {
    std::vector<std::string> names;
    bool paren = skip_op("(");
    do {
      if (is_op("(")) unsupported("nested unpacking target", cur().line);
      names.push_back(expect_name());
    } while (skip_op(","));
    if (paren) expect_op(")");
    return names;
  }

  StmtPtr parse_set(int line) {
    if (cur().type == TokenType::kName && peek().type == TokenType::kOp && peek().text == "." ) {
      auto s = std::make_unique<Stmt>(Stmt{StmtKind::kSet, line});
      s->targets.push_back(next().text);
      ++pos_;
      s->attr = expect_name();
      expect_op("=");
      s->expr = parse_expression();
      expect_block_end();
      return s;
    }
    std::vector<std::string> targets = parse_targets();
    if (skip_op("=")) {
      auto s = std::make_unique<Stmt>(Stmt{StmtKind::kSet, line});
      s->targets = std::move(targets);
      s->expr = parse_expression();
      expect_block_end();
      return s;
    }
    if (is_op("|")) unsupported("filtered set block", line);
    if (targets.size() != 1) error("a set block assigns exactly one name", line);
    expect_block_end();
    auto s = std::make_unique<Stmt>(Stmt{StmtKind::kSetBlock, line});
    s->text = targets[0];
    std::string end_tag;
    s->body = parse_body({"endset"}, end_tag);
    expect_block_end();
    return s;
  }

  StmtPtr parse_macro(int line) {
    auto s = std::make_unique<Stmt>(Stmt{StmtKind::kMacro, line});
    s->text = expect_name();
    expect_op("(");
    while (!skip_op(")")) {
      if (!s->params.empty()) expect_op(",");
      if (is_op("*") || is_op("**")) unsupported("macro varargs", cur().line);
      std::string param = expect_name();
      ExprPtr def;
      if (skip_op("=")) def = parse_expression();
      s->params.emplace_back(std::move(param), std::move(def));
    }
    expect_block_end();
    int saved_depth = loop_depth_;
    loop_depth_ = 0;
    std::string end_tag;
    s->body = parse_body({"endmacro"}, end_tag);
    loop_depth_ = saved_depth;
    expect_block_end();
    return s;
  }

  // ---- expressions ----

  static ExprPtr make(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }
  static ExprPtr literal(Value v, int line) {
    ExprPtr e = make(ExprKind::kLiteral, line);
    e->literal = std::move(v);
    return e;
  }
  static ExprPtr unary(ExprKind kind, ExprPtr operand, int line) {
    ExprPtr e = make(kind, line);
    e->args.push_back(std::move(operand));
    return e;
  }
  static ExprPtr binary(ExprKind kind, std::string op, ExprPtr a, ExprPtr b, int line) {
    ExprPtr e = make(kind, line);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  ExprPtr parse_expression() {
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

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      int line = next().line;
      left = binary(ExprKind::kOr, "or", std::move(left), parse_and(), line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      int line = next().line;
      left = binary(ExprKind::kAnd, "and", std::move(left), parse_not(), line);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      int line = next().line;
      return unary(ExprKind::kNot, parse_not(), line);
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
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
        pos_ += 2;
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

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      Token op = next();
      left = binary(ExprKind::kBinary, op.text, std::move(left), parse_concat(), op.line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op("~")) {
      Token op = next();
      left = binary(ExprKind::kBinary, "~", std::move(left), parse_math2(), op.line);
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      Token op = next();
      left = binary(ExprKind::kBinary, op.text, std::move(left), parse_pow(), op.line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      Token op = next();
      left = binary(ExprKind::kBinary, "**", std::move(left), parse_unary(true), op.line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    int line = cur().line;
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

  ExprPtr parse_primary() {
    const Token& t = cur();
    int line = t.line;
    switch (t.type) {
      case TokenType::kName: {
        std::string n = next().text;
        if (n == "true" || n == "True") return literal(Value::from_bool(true), line);
        if (n == "false" || n == "False") return literal(Value::from_bool(false), line);
        if (n == "none" || n == "None") return literal(Value::none(), line);
        ExprPtr e = make(ExprKind::kName, line);
        e->name = n;
        return e;
      }
      case TokenType::kString: {
        std::string s = next().text;
        while (cur().type == TokenType::kString) s += next().text;  // adjacent literals join
        return literal(Value::from_string(std::move(s)), line);
      }
      case TokenType::kInt: return literal(Value::from_int(next().integer), line);
      case TokenType::kFloat: return literal(Value::from_float(next().number), line);
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
      default: break;
    }
    error("unexpected '" + describe(t) + "'", line);
  }

  ExprPtr parse_paren(int line) {
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

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      int line = cur().line;
      if (skip_op(".")) {
        ExprPtr e = make(ExprKind::kGetAttr, line);
        if (cur().type == TokenType::kInt) {  // foo.0 is foo[0] in jinja
          e->kind = ExprKind::kGetItem;
          e->args.push_back(std::move(node));
          e->args.push_back(literal(Value::from_int(next().integer), line));
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

  ExprPtr parse_subscript(ExprPtr obj, int line) {
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
  void parse_call_args(Expr& e) {
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
        ++pos_;
        e.kwargs.emplace_back(key, parse_expression());
      } else {
        if (!e.kwargs.empty()) error("positional argument after keyword argument", cur().line);
        e.args.push_back(parse_expression());
      }
    }
  }

  ExprPtr parse_call(ExprPtr callee) {
    ExprPtr e = make(ExprKind::kCall, cur().line);
    e->args.push_back(std::move(callee));
    parse_call_args(*e);
    return e;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      int line = cur().line;
      if (skip_op("|")) {
        ExprPtr e = make(ExprKind::kFilter, line);
        e->name = expect_name();
        while (skip_op(".")) e->name += "." + expect_name();
        if (!is_known_filter(e->name)) unsupported("filter " + e->name, line);
        e->args.push_back(std::move(node));
        if (is_op("(")) parse_call_args(*e);
        node = std::move(e);
      } else if (skip_name("is")) {
        ExprPtr e = make(ExprKind::kTest, line);
        e->negated = skip_name("not");
        e->name = expect_name();
        while (skip_op(".")) e->name += "." + expect_name();
        if (!is_known_test(e->name)) unsupported("test " + e->name, line);
        e->args.push_back(std::move(node));
        const Token& t = cur();
        if (is_op("(")) {
          parse_call_args(*e);
        } else if ((t.type == TokenType::kName || t.type == TokenType::kString || t.type == TokenType::kInt ||
                    t.type == TokenType::kFloat || is_op("[") || is_op("{")) &&
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

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse_template(const std::string& source) { return Parser(tokenize(source)).parse_all(); }

}  // namespace qlm::chat
