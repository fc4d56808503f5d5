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
// x1.031 (4 of 6).
constexpr int64_t kChunksPerThread = 16;
constexpr int64_t kDecodeChunksPerThread = 8;
constexpr int64_t kMinGemmChunk = 4;

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
    const int64_t per_thread = n_rows == 1 ? kDecodeChunksPerThread : kChunksPerThread;
    const int64_t chunk = std::max(kMinGemmChunk, total / (nt * per_thread));
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
