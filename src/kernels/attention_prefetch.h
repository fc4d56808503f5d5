// Software prefetch for the attention kernels (AVX2 and AVX-512 alike). In decode K and V come
// from memory (a whole model's cache is far larger than the caches), and the hardware
// prefetchers alone left one core at ~10 GB/s (qlm_kernel_bench BM_DecodeAttention; distance
// 32 ~ 64 < 128 keys there).
#pragma once

#include <cstddef>

namespace qlm {

constexpr int kAttentionPrefetchKeys = 64;  // how far ahead of the keys being scored / summed

// Every 64-byte line of [p, p + bytes) towards L1 (prefetcht0 on x86). Internal linkage: each
// ISA's file keeps its own copy, whatever flags it is compiled with.
static inline void prefetch_lines(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t i = 0; i < bytes; i += 64) __builtin_prefetch(c + i, 0, 3);
}

}  // namespace qlm
