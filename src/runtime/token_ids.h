// The one check every path that takes token ids from outside runs before using them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
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

// Length of the common prefix of a and b, at most n (the prefix cache's matching, chat's reuse of
// its conversation cache).
inline size_t common_prefix(std::span<const int> a, std::span<const int> b, size_t n = SIZE_MAX) {
  n = std::min({n, a.size(), b.size()});
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace qlm
