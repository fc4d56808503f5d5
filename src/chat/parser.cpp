// Statement parser: template text, {{ }} and {% %} statements into the syntax tree, accepting
// only the supported subset; anything else is "unsupported construct '...' at line L".
#include "chat/parser.h"

#include <set>

#include "chat/expr_parser.h"
#include "chat/scopes.h"
#include "chat/token_reader.h"

namespace qlm::chat {
namespace {

class Parser : public TokenReader {
 public:
  explicit Parser(TokenState& state) : TokenReader(state), expr_(state) {}

  Body parse_all() {
    std::string end_tag;
    return parse_body({}, end_tag);
  }

 private:
  // Parses statements until a block tag whose name is in `ends` (consumed; its name returned
  // in end_tag, the tag's remaining tokens left for the caller) or the end of the template.
  Body parse_body(const std::set<std::string>& ends, std::string& end_tag) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::kEof) {
        if (!ends.empty())
          error("unexpected end of template, expected '" + *ends.begin() + "'", t.line);
        return body;
      }
      if (t.type == TokenType::kData) {
        auto s = std::make_unique<Stmt>(Stmt{StmtKind::kText, t.line});
        s->text = t.text;
        body.push_back(std::move(s));
        ++state_.pos;
      } else if (t.type == TokenType::kVarBegin) {
        ++state_.pos;
        auto s = std::make_unique<Stmt>(Stmt{StmtKind::kPrint, t.line});
        s->expr = expr_.parse_expression();
        if (cur().type != TokenType::kVarEnd)
          error("expected '}}', got '" + describe(cur()) + "'", cur().line);
        ++state_.pos;
        body.push_back(std::move(s));
      } else if (t.type == TokenType::kBlockBegin) {
        ++state_.pos;
        if (cur().type != TokenType::kName)
          error("expected a statement name after '{%'", cur().line);
        std::string name = cur().text;
        if (ends.count(name)) {
          ++state_.pos;
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
    NestingGuard guard(state_, line);
    std::string name = next().text;
    if (name == "if") return parse_if(line);
    if (name == "for") return parse_for(line);
    if (name == "set") return parse_set(line);
    if (name == "macro") return parse_macro(line);
    if (name == "print") {
      auto s = std::make_unique<Stmt>(Stmt{StmtKind::kPrint, line});
      s->expr = expr_.parse_expression();
      expect_block_end();
      return s;
    }
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) error("'" + name + "' outside of a loop", line);
      expect_block_end();
      return std::make_unique<Stmt>(
          Stmt{name == "break" ? StmtKind::kBreak : StmtKind::kContinue, line});
    }
    if (name == "generation") {
      // Hugging Face's extension marking assistant text for masks; it renders its body as is.
      expect_block_end();
      std::string end_tag;
      Body inner = parse_body({"endgeneration"}, end_tag);
      expect_block_end();
      auto s = std::make_unique<Stmt>(Stmt{StmtKind::kIf, line});
      s->branches.emplace_back(make_literal(Value::from_bool(true), line), std::move(inner));
      return s;
    }
    static const std::set<std::string> kStrayEnds = {"elif",   "else",     "endif",        "endfor",
                                                     "endset", "endmacro", "endgeneration"};
    if (kStrayEnds.count(name)) error("unexpected '{% " + name + " %}'", line);
    unsupported(name, line);
  }

  StmtPtr parse_if(int line) {
    auto s = std::make_unique<Stmt>(Stmt{StmtKind::kIf, line});
    ExprPtr cond = expr_.parse_expression();
    expect_block_end();
    while (true) {
      std::string end_tag;
      Body body = parse_body({"elif", "else", "endif"}, end_tag);
      s->branches.emplace_back(std::move(cond), std::move(body));
      if (end_tag == "elif") {
        cond = expr_.parse_expression();
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
    s->expr = expr_.parse_or();  // jinja parses the iterable without a condexpr so 'if' can filter
    if (skip_name("if")) s->filter = expr_.parse_expression();
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
    if (cur().type == TokenType::kName && peek().type == TokenType::kOp && peek().text == ".") {
      auto s = std::make_unique<Stmt>(Stmt{StmtKind::kSet, line});
      s->targets.push_back(next().text);
      ++state_.pos;
      s->attr = expect_name();
      expect_op("=");
      s->expr = expr_.parse_expression();
      expect_block_end();
      return s;
    }
    std::vector<std::string> targets = parse_targets();
    if (skip_op("=")) {
      auto s = std::make_unique<Stmt>(Stmt{StmtKind::kSet, line});
      s->targets = std::move(targets);
      s->expr = expr_.parse_expression();
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
      if (skip_op("=")) def = expr_.parse_expression();
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

  ExprParser expr_;
  int loop_depth_ = 0;
};

}  // namespace

Template parse_template(const std::string& source) {
  TokenState state{tokenize(source), 0};
  Template t{Parser(state).parse_all(), {}};
  t.undefined = resolve_scopes(t.body);
  return t;
}

}  // namespace qlm::chat
