// The head sizes the vector attention kernels (AVX2, AVX-512) are compiled for, and the choice
// of the KV cache's element type; anything else runs the scalar reference.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/kernel_table.h"

namespace qlm {

// Calls typed(std::integral_constant<int, head_dim>{}, element) with element a float (F32
// cache) or uint16_t (F16 cache) value, or ref::attend(a) for unsupported shapes.
template <class Typed>
void dispatch_attention(const AttentionHead& a, const Typed& typed) {
  if (a.group > 64 || a.n_keys < 1) return ref::attend(a);
  auto by_type = [&](auto hd) { return a.k_f16 != nullptr ? typed(hd, uint16_t{}) : typed(hd, float{}); };
  switch (a.head_dim) {
    case 64: return by_type(std::integral_constant<int, 64>{});
    case 128: return by_type(std::integral_constant<int, 128>{});
    case 32: return by_type(std::integral_constant<int, 32>{});
    case 96: return by_type(std::integral_constant<int, 96>{});
    case 256: return by_type(std::integral_constant<int, 256>{});
    default: return ref::attend(a);  // other head sizes: the scalar reference
  }
}

}  // namespace qlm
