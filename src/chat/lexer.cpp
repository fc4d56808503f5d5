// Jinja2's lexer, restated: data runs between {{ }}, {% %} and {# #} tags; inside tags, names,
// literals and operators. Whitespace control mirrors jinja2/lexer.py rule by rule.
#include "chat/lexer.h"

#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "chat/unicode_text.h"

namespace qlm::chat {
namespace {

// Byte length of the whitespace code point (Python's str.isspace, which is what jinja's `\s`
// and str.rstrip use) starting at p, or 0.
size_t space_at(const std::string& s, size_t p) {
  if (p >= s.size()) return 0;
  unsigned char c = static_cast<unsigned char>(s[p]);
  if (c < 0x80) return is_py_space(c) ? 1 : 0;
  size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 0;  // whitespace is 2 or 3 bytes
  if (len == 0 || p + len > s.size()) return 0;
  std::vector<uint32_t> cp = decode_utf8(s.substr(p, len));
  return cp.size() == 1 && is_py_space(cp[0]) ? len : 0;
}

size_t skip_spaces(const std::string& s, size_t p) {
  while (size_t n = space_at(s, p)) p += n;
  return p;
}

// Start of the whitespace run that ends at `end`.
size_t spaces_before(const std::string& s, size_t end) {
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && end - start < 3 && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80)
      --start;
    if (space_at(s, start) != end - start) break;
    end = start;
  }
  return end;
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

// Jinja splits on \r\n, \r and \n, rejoins with \n, and drops one trailing newline.
std::string normalize_newlines(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string rstrip(const std::string& s) {
  return s.substr(0, spaces_before(s, s.size()));
}

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(normalize_newlines(source)) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) lex_root();
    tokens_.push_back(Token{TokenType::kEof, "", 0, 0.0, line_});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void error(const std::string& what) {
    fail("chat template: ", what, " at line ", line_);
  }

  void emit(TokenType type, std::string text, int line) {
    tokens_.push_back(Token{type, std::move(text), 0, 0.0, line});
  }

  void advance_to(size_t new_pos) {
    for (size_t i = pos_; i < new_pos; ++i) line_ += src_[i] == '\n';
    pos_ = new_pos;
  }

  // Data before a tag, with '-' (strip all whitespace) or lstrip_blocks (strip the indentation
  // of a line holding only the tag) applied. Variables ({{) are never lstripped.
  void emit_data(std::string text, char sign, bool is_variable) {
    if (sign == '-') {
      text = rstrip(text);
    } else if (sign != '+' && !is_variable) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if (l_pos > 0 || line_starting_) {
        bool all_space = l_pos < text.size();
        all_space &= skip_spaces(text, l_pos) == text.size();
        if (all_space) text.resize(l_pos);
      }
    }
    if (!text.empty()) emit(TokenType::kData, std::move(text), data_line_);
  }

  // Matches a block end at pos_: "+%}", "-%}\s*" or "%}\n?" (trim_blocks). Returns length or 0.
  size_t match_block_end(size_t p, const char* close) const {
    if (src_.compare(p, 3, std::string("+") + close) == 0) return 3;
    if (src_.compare(p, 3, std::string("-") + close) == 0) {
      size_t q = p + 3;
      q = skip_spaces(src_, q);
      return q - p;
    }
    if (src_.compare(p, 2, close) == 0) return (p + 2 < src_.size() && src_[p + 2] == '\n') ? 3 : 2;
    return 0;
  }

  void lex_root() {
    size_t tag = src_.size();
    for (const char* opener : {"{%", "{{", "{#"}) {
      size_t p = src_.find(opener, pos_);
      if (p < tag) tag = p;
    }
    data_line_ = line_;
    if (tag == src_.size()) {
      emit(TokenType::kData, src_.substr(pos_), line_);
      advance_to(src_.size());
      return;
    }
    std::string text = src_.substr(pos_, tag - pos_);
    char kind = src_[tag + 1];
    char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
    bool has_sign = sign == '-' || sign == '+';
    if (!has_sign) sign = '\0';
    if (kind == '%' && try_raw(tag, text, sign)) return;
    emit_data(std::move(text), sign, kind == '{');
    advance_to(tag + 2 + (has_sign ? 1 : 0));
    if (kind == '#') {
      lex_comment();
    } else {
      lex_tag(kind == '%');
    }
  }

  void lex_comment() {
    for (size_t p = pos_; p + 1 < src_.size(); ++p) {
      size_t len = 0;
      if ((src_[p] == '+' || src_[p] == '-') && src_.compare(p + 1, 2, "#}") == 0) {
        len = match_block_end(p, "#}");
      } else if (src_.compare(p, 2, "#}") == 0) {
        len = match_block_end(p, "#}");
      }
      if (len) {
        advance_to(p + len);
        line_starting_ = src_[p + len - 1] == '\n';
        return;
      }
    }
    error("missing end of comment tag");
  }

  // {% raw %}...{% endraw %}: the body is data, untouched by the expression lexer.
  bool try_raw(size_t tag, const std::string& text, char sign) {
    size_t p = tag + 2 + (sign ? 1 : 0);
    p = skip_spaces(src_, p);
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    p = skip_spaces(src_, p);
    size_t begin_end;
    if (src_.compare(p, 3, "-%}") == 0) {
      begin_end = p + 3;
      begin_end = skip_spaces(src_, begin_end);
    } else if (src_.compare(p, 2, "%}") == 0) {
      begin_end = p + 2;  // no trim_blocks on the raw opener, as in jinja2
    } else {
      return false;
    }
    emit_data(text, sign, false);
    advance_to(begin_end);
    line_starting_ = src_[begin_end - 1] == '\n';
    for (size_t q = pos_; q < src_.size(); q = src_.find("{%", q + 1)) {
      q = src_.find("{%", q);
      if (q == std::string::npos) break;
      size_t r = q + 2;
      char end_sign = (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) ? src_[r++] : '\0';
      r = skip_spaces(src_, r);
      if (src_.compare(r, 6, "endraw") != 0) continue;
      r += 6;
      r = skip_spaces(src_, r);
      size_t len = match_block_end(r, "%}");
      if (!len) continue;
      data_line_ = line_;
      emit_data(src_.substr(pos_, q - pos_), end_sign, false);
      advance_to(r + len);
      line_starting_ = src_[r + len - 1] == '\n';
      return true;
    }
    error("missing end of raw directive");
  }

  void lex_tag(bool is_block) {
    int begin_line = line_;
    emit(is_block ? TokenType::kBlockBegin : TokenType::kVarBegin, "", line_);
    std::vector<char> balance;
    while (true) {
      if (pos_ >= src_.size()) {
        line_ = begin_line;
        error(is_block ? "unexpected end of template inside '{%'"
                       : "unexpected end of template inside '{{'");
      }
      if (balance.empty()) {
        size_t len = 0;
        if (is_block) {
          len = match_block_end(pos_, "%}");
        } else if (src_.compare(pos_, 3, "-}}") == 0) {
          len = 3;
          len = skip_spaces(src_, pos_ + len) - pos_;
        } else if (src_.compare(pos_, 2, "}}") == 0) {
          len = 2;
        }
        if (len) {
          emit(is_block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", line_);
          line_starting_ = src_[pos_ + len - 1] == '\n';
          advance_to(pos_ + len);
          return;
        }
      }
      char c = src_[pos_];
      if (size_t n = space_at(src_, pos_)) {
        advance_to(pos_ + n);
      } else if (is_digit(c)) {
        lex_number();
      } else if (is_name_start(c)) {
        size_t end = pos_;
        while (end < src_.size() && is_name_char(src_[end])) ++end;
        emit(TokenType::kName, src_.substr(pos_, end - pos_), line_);
        advance_to(end);
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        lex_operator(balance);
      }
    }
  }

  void lex_number() {
    size_t p = pos_;
    auto digits = [&] {
      size_t start = p;
      while (p < src_.size() && (is_digit(src_[p]) ||
                                 (src_[p] == '_' && p + 1 < src_.size() && is_digit(src_[p + 1]))))
        ++p;
      return p > start;
    };
    digits();
    bool is_float = false;
    if (p + 1 < src_.size() && src_[p] == '.' && is_digit(src_[p + 1])) {
      ++p;
      digits();
      is_float = true;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t save = p++;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (p < src_.size() && is_digit(src_[p])) {
        digits();
        is_float = true;
      } else {
        p = save;
      }
    }
    std::string spelled;
    for (size_t i = pos_; i < p; ++i)
      if (src_[i] != '_') spelled += src_[i];
    Token t{is_float ? TokenType::kFloat : TokenType::kInt, spelled, 0, 0.0, line_};
    if (is_float) {
      // Python's float(): out-of-range literals become inf or 0.0 (std::stod would throw).
      t.number = std::strtod(spelled.c_str(), nullptr);
    } else {
      if (spelled.size() > 1 && spelled[0] == '0' &&
          spelled.find_first_not_of('0') != std::string::npos)
        error("unsupported construct 'integer literal with leading zero or base prefix'");
      try {
        t.integer = std::stoll(spelled);
      } catch (const std::exception&) {
        error("integer literal out of range");
      }
    }
    tokens_.push_back(std::move(t));
    advance_to(p);
  }

  void lex_string(char quote) {
    std::string value;
    size_t p = pos_ + 1;
    while (true) {
      if (p >= src_.size()) error("unterminated string literal");
      char c = src_[p];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) error("unterminated string literal");
      char e = src_[p + 1];
      p += 2;
      switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case 'a':
          value += '\a';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'v':
          value += '\v';
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (p + n > src_.size()) error("truncated \\" + std::string(1, e) + " escape");
          uint32_t cp = 0;
          for (size_t i = 0; i < n; ++i) {
            char h = src_[p + i];
            int d = is_digit(h)              ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (d < 0) error("truncated \\" + std::string(1, e) + " escape");
            cp = cp * 16 + d;
          }
          p += n;
          append_utf8(cp, value);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {  // up to three octal digits, as Python reads them
            uint32_t cp = e - '0';
            for (int i = 0; i < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++i)
              cp = cp * 8 + (src_[p++] - '0');
            append_utf8(cp, value);
            break;
          }
          if (e == 'N') error("unsupported construct '\\N{...} escape in string literal'");
          value += '\\';
          value += e;
      }
    }
    emit(TokenType::kString, std::move(value), line_);
    advance_to(p + 1);
  }

  void lex_operator(std::vector<char>& balance) {
    static const char* kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwo) {
      if (src_.compare(pos_, 2, op) == 0) {
        emit(TokenType::kOp, op, line_);
        advance_to(pos_ + 2);
        return;
      }
    }
    char c = src_[pos_];
    if (!std::strchr("+-/*%~[](){}><=.:|,;", c))
      error("unexpected char '" + std::string(1, c) + "'");
    if (c == '{' || c == '(' || c == '[') balance.push_back(c == '{' ? '}' : c == '(' ? ')' : ']');
    if (c == '}' || c == ')' || c == ']') {
      if (balance.empty()) error("unexpected '" + std::string(1, c) + "'");
      if (balance.back() != c)
        error("unexpected '" + std::string(1, c) + "', expected '" +
              std::string(1, balance.back()) + "'");
      balance.pop_back();
    }
    emit(TokenType::kOp, std::string(1, c), line_);
    advance_to(pos_ + 1);
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  int data_line_ = 1;
  bool line_starting_ = true;  // the text so far ends at a line start (jinja2's line_starting)
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source) {
  return Lexer(source).run();
}

}  // namespace qlm::chat
