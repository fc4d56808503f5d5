// Splits template source into tokens with Jinja2's whitespace rules as Hugging Face configures
// them (trim_blocks, lstrip_blocks, keep_trailing_newline off, '-'/'+' tag modifiers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qlm::chat {

enum class TokenType {
  kData,
  kBlockBegin,
  kBlockEnd,
  kVarBegin,
  kVarEnd,
  kName,
  kString,
  kInt,
  kFloat,
  kOp,
  kEof
};

struct Token {
  TokenType type;
  std::string text;  // data, name, decoded string literal, or operator spelling
  int64_t integer = 0;
  double number = 0.0;
  int line = 1;
};

// Throws qlm::Error naming the line on malformed input (unclosed tag, bad character, ...).
std::vector<Token> tokenize(const std::string& source);

}  // namespace qlm::chat
