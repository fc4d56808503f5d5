// Software prefetch for the attention kernels (AVX2 and AVX-512 alike). In decode K and V come
// from memory (a whole model's cache is far larger than the caches), and the hardware
// prefetchers alone left one core at ~10 GB/s (qlm_kernel_bench BM_DecodeAttention; distance
// 32 ~ 64 < 128 keys there).
#pragma once

#include "kernels/prefetch_lines.h"

namespace qlm {

constexpr int kAttentionPrefetchKeys = 64;  // how far ahead of the keys being scored / summed

}  // namespace qlm
