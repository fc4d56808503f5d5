// Finds added tokens (<|im_start|>, <s>, ...) in raw text before normalization and BPE,
// leftmost match first and the longest token at that position, like HF's AddedVocabulary.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_spec.h"

namespace qlm::tok {

class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);

  struct Piece {
    std::string_view text;
    int id;  // the added token's id, or -1 for plain text to normalize and BPE
  };
  // Splits text; special tokens are matched only when allow_special is set.
  void split(std::string_view text, bool allow_special, std::vector<Piece>& out) const;

 private:
  std::vector<AddedToken> tokens_;       // sorted longest first
  std::vector<int> by_first_byte_[256];  // indexes into tokens_, longest first
};

}  // namespace qlm::tok
