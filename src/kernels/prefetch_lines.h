// Software prefetch of a byte range, for every ISA's kernels (attention's K/V, the int8
// kernels' blocked scales).
#pragma once

#include <cstddef>

namespace qlm {

// Every 64-byte line of [p, p + bytes) towards L1 (prefetcht0 on x86). Internal linkage: each
// ISA's file keeps its own copy, whatever flags it is compiled with.
static inline void prefetch_lines(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t i = 0; i < bytes; i += 64) __builtin_prefetch(c + i, 0, 3);
}

}  // namespace qlm
