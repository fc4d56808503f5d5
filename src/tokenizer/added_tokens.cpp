// Added-token matching with lstrip/rstrip/single_word, scanning candidates by first byte.
#include "tokenizer/added_tokens.h"

#include <algorithm>

namespace qlm::tok {

namespace {
bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
// Word characters for single_word: ASCII alphanumerics, '_' and any non-ASCII byte.
bool is_word_byte(unsigned char c) { return c == '_' || c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }
}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) : tokens_(tokens) {
  std::erase_if(tokens_, [](const AddedToken& t) { return t.content.empty(); });
  std::stable_sort(tokens_.begin(), tokens_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  for (size_t i = 0; i < tokens_.size(); ++i)
    by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(static_cast<int>(i));
}

void AddedTokenMatcher::split(std::string_view text, bool allow_special, std::vector<Piece>& out) const {
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
    if (match->lstrip)
      while (start > plain_start && is_space(text[start - 1])) --start;
    if (match->rstrip)
      while (end < text.size() && is_space(text[end])) ++end;
    if (start > plain_start) out.push_back({text.substr(plain_start, start - plain_start), -1});
    out.push_back({text.substr(start, end - start), match->id});
    plain_start = i = end;
  }
  if (plain_start < text.size()) out.push_back({text.substr(plain_start), -1});
}

}  // namespace qlm::tok
