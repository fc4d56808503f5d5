// The one check every path that takes token ids from outside runs before using them.
#pragma once

#include <span>
#include <string>

#include "base/error.h"

namespace qlm {

// Throws Error "where: token id X is outside the vocabulary [0, vocab)" for the first such id.
// Scoring checks every id, the last included: a token that is only ever a target is never
// embedded, so nothing else would catch it before it indexed past the logits.
inline void check_token_ids(std::span<const int> ids, int vocab, const std::string& where) {
  for (int id : ids)
    if (id < 0 || id >= vocab) fail(where, ": token id ", id, " is outside the vocabulary [0, ", vocab, ")");
}

}  // namespace qlm
