// How the int8 matmuls (AVX2 and AVX-512) share one call's work among the OpenMP threads: the
// 16-row blocks of all its matrices, end to end, handed out in chunks from a shared counter.
// A block's value never depends on its thread, so the split changes no result.
#pragma once

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "base/error.h"
#include "quant/weight_matrix.h"

namespace qlm {

// With several activation rows (prefill, batched decode) ~kChunksPerThread chunks per thread
// and at least kMinGemmChunk blocks (so the GEMM tiles' prefetch of the next block stays
// useful): on a shared VM one core often computes slower than the other for a while, and with
// fixed halves the faster one waited (AVX-512 pp512 +14%, bench/ab.py, 6 of 6 rounds). A single
// row (decode GEMV) takes fewer, ~kDecodeChunksPerThread: with 4 KB pages, chunks there measured
// 3% slower than fixed halves (0.968, 8 rounds); since the weights sit in 2 MB pages
// (page_arena.h), 8 per thread measure q4 x1.021 (8 of 10 rounds) and x1.033 (5 of 6), q8
// x1.031 (4 of 6). But a chunk is also a new stream: its first lines arrive at DRAM latency
// before the prefetchers catch up, and the small matrices (a 0.5B layer's q/k/v/o, 0.45 MB
// each in q4) came in chunks of 4 blocks, 28 KB: BM_GemvDramQ4 896x896 read at ~25 GB/s where
// 4864x896 read ~40. So a decode chunk is at least kMinDecodeChunkBytes of codes (and at most
// an even share per thread). Zen 5, 2 threads, bench/ab.py against 8 chunks per thread with
// no floor: BM_GemvDramQ4 896x896 x1.25 (11 of 12 rounds; as halves), 896x4864 x1.085 (8 of
// 12), 4864x896 x1.15 (9 of 10, halves; 512 KB chunks equal halves there), the LM head x1.03
// (6 of 10); the AVX2 kernel x1.45 / x1.29 (8 of 8 each). Whole-model q4 decode x1.09 (8 of
// 12), AVX2 x1.13 (7 of 8); q8 x0.98 (4 of 12, noise; its GEMV x1.035 / x1.007).
constexpr int64_t kChunksPerThread = 16;
constexpr int64_t kDecodeChunksPerThread = 8;
constexpr int64_t kMinGemmChunk = 4;
constexpr int64_t kMinDecodeChunkBytes = int64_t{512} << 10;

// Calls blocks(i, begin, end) for 16-row blocks [begin, end) of matrix ws[i] (count <= 8), from
// the threads of one parallel region, until every block of every matrix is done.
template <class Blocks>
void for_block_chunks(const WeightMatrix* const* ws, int count, int64_t n_rows, const Blocks& blocks) {
  int64_t total = 0;
  int64_t first[9] = {0};
  QLM_CHECK(count <= 8);
  for (int i = 0; i < count; ++i) first[i + 1] = total += (ws[i]->rows + 15) / 16;
  std::atomic<int64_t> next{0};
#pragma omp parallel
  {
    const int nt = omp_get_num_threads();
    int64_t chunk = std::max(kMinGemmChunk, total / (nt * kChunksPerThread));
    if (n_rows == 1) {
      const int64_t block_bytes = std::max<int64_t>(1, 16 * ws[0]->cols * ws[0]->bits / 8);
      const int64_t min_blocks = (kMinDecodeChunkBytes + block_bytes - 1) / block_bytes;
      chunk = std::min((total + nt - 1) / nt, std::max(min_blocks, total / (nt * kDecodeChunksPerThread)));
    }
    for (int64_t begin; (begin = next.fetch_add(chunk, std::memory_order_relaxed)) < total;) {
      const int64_t end = std::min(total, begin + chunk);
      for (int i = 0; i < count; ++i) {
        const int64_t b = std::max(begin, first[i]), e = std::min(end, first[i + 1]);
        if (b < e) blocks(i, b - first[i], e - first[i]);
      }
    }
  }
}

}  // namespace qlm
