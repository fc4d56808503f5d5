// q4/q8 affine weights × int8 activations for several activation rows at once (batched decode,
// and prefill where there is no AMX), AVX-512 VNNI.
//
// The GEMV path (matmul_int8.cpp) multiplies one activation row by a 16-row weight block with
// 64-byte weight vectors and then reduces 16 vectors horizontally; with many rows it would
// repeat the nibble unpack and that reduction for every row. Here each 16-row block is packed
// once per call into "k-quads": vector v holds, for each of the 16 weight rows, 4 consecutive
// weight bytes (unpacked nibbles for q4), so one `vpdpbusd` with a broadcast 4-byte slice of an
// activation row adds those 4 products into all 16 outputs, with no reduction. A tile of
// tokens shares every weight vector load. Where the loader built the interleaved copy of the
// codes (interleaved_codes.h: the same k-quads, q4 nibbles still packed), nothing is packed
// per call, and the tiles serve every row count, one row included (matmul_int8.cpp).
//
// The integer group sums S_g are exact, and the float combination is combine_group in group
// order, so the outputs equal the GEMV and AMX paths bit for bit.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "base/half.h"
#include "kernels/avx512/act_quant.h"
#include "quant/blocked_params.h"
#include "quant/weight_matrix.h"

// Everything below is compiled for AVX-512 F/BW/VL/VNNI/BF16 (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16")

#include "kernels/avx512/int8_block.h"

namespace qlm::avx512 {

namespace {

// Packed block: chunk c of 64 weight bytes per row becomes vectors [c·V, c·V + V), V = 32 for
// q4 (16 from the low nibbles, then 16 from the high nibbles) and 16 for q8; vector j of a level
// holds dword j (bytes 4j .. 4j+3) of every row. That matches the activation byte order of
// act_quant.h: packed vector c·V + v pairs with activation bytes [c·128 + 4v, +4) for q4 and
// [c·64 + 4v, +4) for q8.
void pack_block(const BlockParams& p, int bits, const uint8_t* const rows[16], __m512i* out) {
  const __m512i nib = _mm512_set1_epi8(0x0F);
  for (int64_t c = 0; c < p.chunks; ++c) {
    const __mmask64 mask = c == p.chunks - 1 ? p.tail_mask : ~__mmask64(0);
    // As the GEMV: each row 512 bytes ahead, running into the next block near the end (the
    // block's rows are contiguous). With few tokens this pass is where the weights stream in.
    // Written out, not shared with block_one_row: GCC 12 dropped every prefetch of an inline
    // helper holding this code (0 prefetcht0 in the binary, decode -20-35%). Why: its
    // local-pure-const pass marks a void function whose only effect is __builtin_prefetch
    // "looping pure", and a pure call with no result used is deleted before the IPA inliner
    // gets to it (-fdump-tree-all on a 15-line reproducer). always_inline keeps them (inlined
    // early, before that pass); a shared helper would need it.
    constexpr int64_t kAhead = 512;
    const int64_t off = c * 64 + std::min(p.row_bytes, kAhead);
    const int64_t pf = off < p.row_bytes ? off : 16 * p.row_bytes + (off - p.row_bytes);
    for (int i = 0; i < 16; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(rows[i] + pf), _MM_HINT_T0);
    __m512 v[16];
    for (int i = 0; i < 16; ++i)
      v[i] = _mm512_castsi512_ps(_mm512_maskz_loadu_epi8(mask, rows[i] + c * 64));
    if (bits == 8) {
      transpose16(v);
      for (int j = 0; j < 16; ++j) _mm512_store_si512(out + c * 16 + j, _mm512_castps_si512(v[j]));
      continue;
    }
    __m512 hi[16];
    for (int i = 0; i < 16; ++i) {
      const __m512i w = _mm512_castps_si512(v[i]);
      hi[i] = _mm512_castsi512_ps(_mm512_and_si512(_mm512_srli_epi16(w, 4), nib));
      v[i] = _mm512_castsi512_ps(_mm512_and_si512(w, nib));
    }
    transpose16(v);
    for (int j = 0; j < 16; ++j) _mm512_store_si512(out + c * 32 + j, _mm512_castps_si512(v[j]));
    transpose16(hi);
    for (int j = 0; j < 16; ++j)
      _mm512_store_si512(out + c * 32 + 16 + j, _mm512_castps_si512(hi[j]));
  }
}

// The interleaved copy is read as one sequential stream per thread; prefetching it 4 KB ahead
// (qlm_kernel_bench GEMV, 151936x896, 1 thread, distances 0/1/2/4/8 KB: q4 9.5/11.4/22/25/26
// GB/s, q8 10/10/13/15/14; less for matrices that L2 holds) covers what the hardware does not.
constexpr int kPrefetchBytes = 4096;

// The packed q4 block from its interleaved copy (interleaved_codes.h), whose word d already
// holds dword d of the 16 rows: only the nibbles are split, into the layout of pack_block.
void split_nibbles(const BlockParams& p, const __m512i* block, __m512i* out) {
  const __m512i nib = _mm512_set1_epi8(0x0F);
  const int64_t words = p.row_bytes / 4;
  for (int64_t d = 0; d < words; ++d) {
    _mm_prefetch(reinterpret_cast<const char*>(block + d) + kPrefetchBytes, _MM_HINT_T0);
    const __m512i wv = _mm512_load_si512(block + d);
    const int64_t c = d / 16, j = d % 16;
    _mm512_store_si512(out + c * 32 + j, _mm512_and_si512(wv, nib));
    _mm512_store_si512(out + c * 32 + 16 + j, _mm512_and_si512(_mm512_srli_epi16(wv, 4), nib));
  }
}

// acc += w · broadcast(4 activation bytes at x). Inline asm because GCC 12, given the
// intrinsic on arrays of accumulators, neither folds the broadcast into the memory operand nor
// keeps the accumulators in place (it copied each one twice per vpdpbusd).
inline void dpbusd_bcast(__m512i& acc, __m512i w, const int8_t* x) {
  asm("vpdpbusd %2%{1to16%}, %1, %0"
      : "+v"(acc)
      : "v"(w), "m"(*reinterpret_cast<const int32_t*>(x)));
}

struct TileArgs {
  const BlockParams* p;
  const __m512i* packed;
  const QuantizedActs* acts;
  int64_t m0;       // first activation row of the tile
  const float* sT;  // [groups][16] scales, then biases
  const float* bT;
  float* acc;  // [NT][16] results
  // The next interleaved block, which this tile prefetches group by group (its group g is
  // bytes [16·g·group_bytes, +16·group_bytes)), or null.
  const char* next = nullptr;
};

// NT activation rows × one packed 16-row block. q4 keeps NT integer and NT float accumulators
// in registers, q8 one more integer set (the second activation level). kInterleaved: the block
// is the load-time copy (interleaved_codes.h), whose q4 words still hold both nibbles; they are
// split here (three ALU ops per vector, against 2·NT `vpdpbusd`). q8 blocks are alike either way.
template <int kBits, int kGroup, int NT, bool kInterleaved>
void tile(const TileArgs& a) {
  const BlockParams& p = *a.p;
  constexpr int n = kGroup * kBits / 32;  // k-quads per group and level-run (unrolled)
  // Independent integer sums per token: with few tokens a single chain would wait on
  // vpdpbusd's latency instead of its throughput. Added up in a fixed order (and exact).
  constexpr int S = NT >= 4 ? 1 : NT >= 2 ? 2 : 4;
  const int8_t* x[NT];
  const float* xd[NT];
  const float* xs[NT];
  for (int t = 0; t < NT; ++t) {
    x[t] = a.acts->row(a.m0 + t);
    xd[t] = a.acts->d.data() + (a.m0 + t) * a.acts->groups;
    xs[t] = a.acts->sum.data() + (a.m0 + t) * a.acts->groups;
  }
  const int64_t lb = a.acts->level_bytes;
  // Where the interleaved stream is prefetched to. One row (decode) is bound by DRAM: into L2
  // only, leaving L1's fill buffers to the loads (bench/ab.py: BM_GemvDramQ4 x1.11 in 6 of 6
  // rounds, q4 decode x1.09 in 8 of 8; 1.5B q8 decode x1.024 in 8 of 8). Several rows reuse
  // each vector from L1: there L2 measured x0.86 (8 rows).
  constexpr auto kStreamHint = NT == 1 ? _MM_HINT_T1 : _MM_HINT_T0;
  __m512 facc[NT];
  for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
  for (int64_t g = 0; g < p.groups; ++g) {
    __m512i is[S][NT];
    for (int s = 0; s < S; ++s)
      for (int t = 0; t < NT; ++t) is[s][t] = _mm512_setzero_si512();
    if constexpr (kBits == 4 && kInterleaved) {
      // Word d of the rows: low nibbles pair with activation bytes [c·128 + 4·(d % 16), +4),
      // high nibbles with the same + 64 (act_quant.h), c = d / 16. A group never spans chunks.
      const __m512i nib = _mm512_set1_epi8(0x0F);
      const int64_t d0 = g * p.group_bytes / 4;
      const __m512i* w = a.packed + d0;
      const int64_t off = d0 / 16 * 128 + 4 * (d0 % 16);
#pragma GCC unroll 32
      for (int k = 0; k < n; ++k) {
        _mm_prefetch(reinterpret_cast<const char*>(w + k) + kPrefetchBytes, kStreamHint);
        const __m512i wv = _mm512_load_si512(w + k);
        const __m512i lo = _mm512_and_si512(wv, nib);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(wv, 4), nib);
        for (int t = 0; t < NT; ++t) {
          dpbusd_bcast(is[(2 * k) % S][t], lo, x[t] + off + 4 * k);
          dpbusd_bcast(is[(2 * k + 1) % S][t], hi, x[t] + off + 64 + 4 * k);
        }
      }
    } else if constexpr (kBits == 4) {
      // The group's bytes sit in chunk c at dwords [jb, jb + n): a run in each nibble half.
      const int64_t c = g * p.group_bytes / 64, jb = (g * p.group_bytes % 64) / 4;
      for (int half = 0; half < 2; ++half) {
        const __m512i* w = a.packed + c * 32 + half * 16 + jb;
        const int64_t off = c * 128 + half * 64 + 4 * jb;
#pragma GCC unroll 32
        for (int k = 0; k < n; ++k) {
          if (half == 0 && a.next != nullptr)  // n lines: the next block's group g
            _mm_prefetch(a.next + g * 16 * p.group_bytes + 64 * k, _MM_HINT_T0);
          const __m512i wv = _mm512_load_si512(w + k);
          for (int t = 0; t < NT; ++t) dpbusd_bcast(is[k % S][t], wv, x[t] + off + 4 * k);
        }
      }
    } else {  // S = 256·Σ w·q1 + Σ w·q2, exact in int32 (act_quant.h)
      __m512i is2[S][NT];
      for (int s = 0; s < S; ++s)
        for (int t = 0; t < NT; ++t) is2[s][t] = _mm512_setzero_si512();
      const __m512i* w = a.packed + g * n;
      const int64_t off = g * p.group_bytes;
#pragma GCC unroll 32
      for (int k = 0; k < n; ++k) {
        if (a.next != nullptr)  // n lines: the next block's group g
          _mm_prefetch(a.next + g * 16 * p.group_bytes + 64 * k, _MM_HINT_T0);
        else if constexpr (kInterleaved)
          _mm_prefetch(reinterpret_cast<const char*>(w + k) + kPrefetchBytes, kStreamHint);
        const __m512i wv = _mm512_load_si512(w + k);
        for (int t = 0; t < NT; ++t) {
          dpbusd_bcast(is[k % S][t], wv, x[t] + off + 4 * k);
          dpbusd_bcast(is2[k % S][t], wv, x[t] + lb + off + 4 * k);
        }
      }
      for (int s = 1; s < S; ++s)
        for (int t = 0; t < NT; ++t) is2[0][t] = _mm512_add_epi32(is2[0][t], is2[s][t]);
      for (int s = 1; s < S; ++s)
        for (int t = 0; t < NT; ++t) is[0][t] = _mm512_add_epi32(is[0][t], is[s][t]);
      for (int t = 0; t < NT; ++t) is[0][t] = _mm512_add_epi32(_mm512_slli_epi32(is[0][t], 8), is2[0][t]);
    }
    if constexpr (kBits == 4)
      for (int s = 1; s < S; ++s)
        for (int t = 0; t < NT; ++t) is[0][t] = _mm512_add_epi32(is[0][t], is[s][t]);
    for (int t = 0; t < NT; ++t)
      facc[t] = combine_group(facc[t], is[0][t], a.sT + g * 16, a.bT + g * 16, xd[t][g], xs[t][g]);
  }
  for (int t = 0; t < NT; ++t) _mm512_store_ps(a.acc + t * 16, facc[t]);
}

// Tile widths: as many tokens as leave registers for the weight vector and the epilogue.
constexpr int kTileQ4 = 8;
constexpr int kTileQ8 = 8;

using TileFn = void (*)(const TileArgs&);

// [group 32, 64, 128][tokens 0 .. width] (entry 0 unused)
template <int kBits, int kGroup, bool kInter, int... Ns>
constexpr std::array<TileFn, sizeof...(Ns) + 1> tile_row(std::integer_sequence<int, Ns...>) {
  return {nullptr, &tile<kBits, kGroup, Ns + 1, kInter>...};
}
template <int kBits, int kWidth, bool kInter>
constexpr std::array<std::array<TileFn, kWidth + 1>, 3> tile_table() {
  constexpr auto ns = std::make_integer_sequence<int, kWidth>{};
  return {tile_row<kBits, 32, kInter>(ns), tile_row<kBits, 64, kInter>(ns), tile_row<kBits, 128, kInter>(ns)};
}
constexpr auto kTilesQ4 = tile_table<4, kTileQ4, false>();
constexpr auto kTilesQ4Interleaved = tile_table<4, kTileQ4, true>();
constexpr auto kTilesQ8 = tile_table<8, kTileQ8, false>();  // packed and interleaved blocks agree;
constexpr auto kTilesQ8Interleaved = tile_table<8, kTileQ8, true>();  // this one prefetches

}  // namespace

void int8_gemm_blocks(const WeightMatrix& w, const float* bias, const QuantizedActs& acts,
                      int64_t n_rows, float* y, int64_t blk_begin, int64_t blk_end) {
  const BlockParams p = block_params(w);
  thread_local std::vector<float> sb;  // [2][groups][16] transposed scales, biases
  struct alignas(64) Vector {
    uint8_t bytes[64];
  };
  thread_local std::vector<Vector> packed_buf;  // one packed block
  const uint8_t* const inter = w.interleaved_codes.get();  // when set, nothing to pack
  const int64_t vectors = p.chunks * (w.bits == 4 ? 32 : 16);
  if (static_cast<int64_t>(packed_buf.size()) < vectors) packed_buf.resize(vectors);
  __m512i* const packed = reinterpret_cast<__m512i*>(packed_buf.data());
  const int width = w.bits == 4 ? kTileQ4 : kTileQ8;
  const int gi = w.group_size == 32 ? 0 : w.group_size == 64 ? 1 : 2;
  // q4 from the interleaved copy: one tile splits the nibbles as it goes; with more, they are
  // split once per block (the split in every tile cost 25-35% at 512 rows).
  const bool split_once = inter != nullptr && w.bits == 4 && n_rows > width;
  const TileFn* tiles = w.bits == 8 ? (inter != nullptr ? kTilesQ8Interleaved : kTilesQ8)[gi].data()
                        : inter != nullptr && !split_once ? kTilesQ4Interleaved[gi].data()
                                                          : kTilesQ4[gi].data();
  alignas(64) float acc[std::max(kTileQ4, kTileQ8) * 16];
  for (int64_t blk = blk_begin; blk < blk_end; ++blk) {
    const int64_t r0 = blk * 16;
    const uint8_t* rows[16];
    block_setup(w, p, r0, rows, sb);
    // One tile per block (decode, small batches) streams the weights: the next block's scales
    // and biases too (BM_GemvDramQ4 4864x896, 2 threads, x1.081 in 13 of 16 rounds). With more
    // rows the first tile already prefetches the next block's codes and the block takes long
    // enough to hide the miss; BM_GemmQ4 at 32 rows showed nothing beyond the noise (A/A runs
    // of one binary moved 1-3%), so that path is left as it was.
    if (n_rows <= width && blk + 1 < blk_end) prefetch_block_params(w, blk + 1);
    const __m512i* block = packed;
    if (inter == nullptr) {
      pack_block(p, w.bits, rows, packed);
    } else {
      block = reinterpret_cast<const __m512i*>(inter + r0 * p.row_bytes);
      if (split_once) {
        split_nibbles(p, block, packed);
        block = packed;
      }
    }
    const int n_valid = static_cast<int>(std::min<int64_t>(16, w.rows - r0));
    const __mmask16 out_mask = static_cast<__mmask16>((1u << n_valid) - 1);
    TileArgs a{&p, block, &acts, 0, sb.data(), sb.data() + p.groups * 16, acc};
    // With several tiles per block, the first brings in the next block of this thread's
    // stretch while it computes (the split or the next block's first tile found it in cache).
    const char* next = inter != nullptr && n_rows > width && blk + 1 < blk_end
                           ? reinterpret_cast<const char*>(inter + (r0 + 16) * p.row_bytes)
                           : nullptr;
    for (int64_t m0 = 0; m0 < n_rows; m0 += width) {
      const int nt = static_cast<int>(std::min<int64_t>(width, n_rows - m0));
      a.m0 = m0;
      a.next = m0 == 0 ? next : nullptr;
      tiles[nt](a);
      for (int t = 0; t < nt; ++t)
        store_outputs(acc + t * 16, bias, r0, out_mask, y + (m0 + t) * w.rows);
    }
  }
}

}  // namespace qlm::avx512
