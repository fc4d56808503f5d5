// Added-token matching with lstrip/rstrip/single_word, scanning candidates by first byte.
#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace qlm::tok {

namespace {
// Unicode White_Space, which Rust's char::is_whitespace (HF's lstrip/rstrip) uses.
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

char32_t decode_at(std::string_view s, size_t i, size_t len) {
  if (len == 1) return static_cast<unsigned char>(s[i]);
  char32_t c = static_cast<unsigned char>(s[i]) & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return c;
}

// Start of the whitespace run ending at end, not going below floor. Input is valid UTF-8.
size_t skip_space_back(std::string_view s, size_t end, size_t floor) {
  while (end > floor) {
    size_t start = end - 1;
    while (start > floor && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    if (!is_white_space(decode_at(s, start, end - start))) break;
    end = start;
  }
  return end;
}

size_t skip_space_forward(std::string_view s, size_t start) {
  while (start < s.size()) {
    const size_t len = utf8_step(s, start).length;
    if (!is_white_space(decode_at(s, start, len))) break;
    start += len;
  }
  return start;
}
// Word characters for single_word: ASCII alphanumerics, '_' and any non-ASCII byte.
bool is_word_byte(unsigned char c) {
  return c == '_' || c >= 0x80 || (c >= '0' && c <= '9') ||
         ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}
}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) : tokens_(tokens) {
  std::erase_if(tokens_, [](const AddedToken& t) { return t.content.empty(); });
  std::stable_sort(tokens_.begin(), tokens_.end(), [](const AddedToken& a, const AddedToken& b) {
    return a.content.size() > b.content.size();
  });
  for (size_t i = 0; i < tokens_.size(); ++i)
    by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(
        static_cast<int>(i));
}

void AddedTokenMatcher::split(std::string_view text, bool allow_special,
                              std::vector<Piece>& out) const {
  size_t plain_start = 0;  // start of the plain text not yet emitted
  size_t i = 0;
  while (i < text.size()) {
    const AddedToken* match = nullptr;
    for (int index : by_first_byte_[static_cast<unsigned char>(text[i])]) {
      const AddedToken& t = tokens_[index];
      if (t.special && !allow_special) continue;
      if (text.compare(i, t.content.size(), t.content) != 0) continue;
      if (t.single_word) {
        const size_t end = i + t.content.size();
        if (i > 0 && is_word_byte(text[i - 1])) continue;
        if (end < text.size() && is_word_byte(text[end])) continue;
      }
      match = &t;
      break;
    }
    if (match == nullptr) {
      ++i;
      continue;
    }
    size_t start = i, end = i + match->content.size();
    if (match->lstrip) start = skip_space_back(text, start, plain_start);
    if (match->rstrip) end = skip_space_forward(text, end);
    if (start > plain_start) out.push_back({text.substr(plain_start, start - plain_start), -1});
    out.push_back({text.substr(start, end - start), match->id});
    plain_start = i = end;
  }
  if (plain_start < text.size()) out.push_back({text.substr(plain_start), -1});
}

}  // namespace qlm::tok
