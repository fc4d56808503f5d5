// The candidate order shared by every sampler stage: higher value first, then lower id.
#pragma once

#include "sampler/sampler.h"

namespace qlm {

using Scored = ScoredToken;

// Strict weak order "a ranks before b"; used as the comparator of heaps and sorts, so that
// ties between equal logits always resolve to the lowest id.
inline bool better(const Scored& a, const Scored& b) {
  return a.value > b.value || (a.value == b.value && a.id < b.id);
}

}  // namespace qlm
