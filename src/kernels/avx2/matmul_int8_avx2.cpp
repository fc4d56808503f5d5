// q4/q8 affine weights × int8 activations with AVX2 (machines without AVX-512, e.g. AMD Zen 2/3),
// reading the load-time interleaved copy of the codes (interleaved_codes.h; built per block
// when a matrix has none): word d of a 16-row
// block holds bytes [4d, 4d + 4) of each of its rows, so a broadcast of the matching activation
// bytes multiplies all 16 rows at once and every row's sum stays in its own lane.
//  q4: `vpmaddubsw` (unsigned nibble × signed int8 -> int16 pairs, at most 2·15·127 = 3810, so
//      four words' worth still fits int16), then `vpmaddwd` by 1 into int32 lanes.
//  q8: weight bytes zero-extended to int16 and `vpmaddwd` with the 16-bit activations
//      256·q1 + q2 (act_quant_avx2.h): two lanes per row, added pairwise at the group's end.
// Both give exactly the integer group sums S_g of the AVX-512 VNNI path, and the float
// combination is the same (acc = fma(d_x, fma(b_w, X_g, s_w·S_g), acc) in group order, then
// + bias), so all int8 ISAs agree bit for bit, whatever the threads or the batch.
#include "kernels/avx2/avx2.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "io/dtype.h"
#include "kernels/avx2/act_quant_avx2.h"
#include "kernels/block_chunks.h"
#include "kernels/prefetch_lines.h"
#include "quant/blocked_params.h"
#include "quant/interleaved_codes.h"

// Everything below is compiled for AVX2 + FMA + F16C (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c")

namespace qlm::avx2 {

namespace {

constexpr int kPrefetchBytes = 4096;  // the interleaved stream, read sequentially per thread

// 8 scales or biases (F32/F16/BF16) from element o, widened to F32 (exactly).
inline __m256 load_params8(DType t, const uint8_t* p, int64_t o) {
  if (t == DType::F32) return _mm256_loadu_ps(reinterpret_cast<const float*>(p) + o);
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(p) + o));
  if (t == DType::BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  return _mm256_cvtph_ps(h);
}

// The block's scales and biases in the blocked layout (blocked_params.h: per group, 16 scales
// then 16 biases): the loader's copy, or built per block (as F32) when the matrix has none.
const uint8_t* block_params(const WeightMatrix& w, int64_t r0, DType* dt) {
  const int64_t groups = w.groups_per_row();
  if (w.blocked_params) {
    *dt = w.float_dtype;
    return blocked_params_block(w, r0 / 16);
  }
  thread_local std::vector<float> sb;
  if (sb.size() < static_cast<size_t>(32 * groups)) sb.resize(static_cast<size_t>(32 * groups));
  for (int i = 0; i < 16; ++i) {
    const int64_t r = std::min(r0 + i, w.rows - 1);  // rows past the end repeat the last one
    for (int64_t g = 0; g < groups; ++g) {
      const size_t at = static_cast<size_t>(r * groups + g) * dtype_size(w.float_dtype);
      convert_to_f32(w.float_dtype, w.scales + at, &sb[g * 32 + i], 1);
      convert_to_f32(w.float_dtype, w.biases + at, &sb[g * 32 + 16 + i], 1);
    }
  }
  *dt = DType::F32;
  return reinterpret_cast<const uint8_t*>(sb.data());
}

struct TileArgs {
  const uint8_t* codes;  // the block's interleaved codes
  int64_t groups;
  const Int8Acts* acts;
  int64_t m0;       // first activation row of the tile
  const uint8_t* params;  // block_params(): per group 16 scales, 16 biases, of type dt
  DType dt;
  float* acc;  // [NT][16] results
};

// acc (rows 8h .. 8h+7) = fma(d_x, fma(b_w, X, s_w·S), acc) for group g: the float order of
// every int8 path. The scales are widened here, where their loads overlap the integer work
// (copied out per block first, the first load of each block stalled on memory: 17% of decode).
inline __m256 combine8(const TileArgs& a, int64_t g, int h, __m256 acc, __m256i isum, float xd, float xs) {
  const __m256 s = load_params8(a.dt, a.params, g * 32 + 8 * h);
  const __m256 b = load_params8(a.dt, a.params, g * 32 + 16 + 8 * h);
  __m256 t = _mm256_mul_ps(s, _mm256_cvtepi32_ps(isum));
  t = _mm256_fmadd_ps(b, _mm256_set1_ps(xs), t);
  return _mm256_fmadd_ps(_mm256_set1_ps(xd), t, acc);
}

// 4 activation bytes (8 for bcast64) in every lane, as one load (vbroadcastss / vbroadcastsd
// from memory); a memcpy + set1 went through a general register: 3 micro-ops per broadcast.
inline __m256i bcast32(const int8_t* p) {
  return _mm256_castps_si256(_mm256_broadcast_ss(reinterpret_cast<const float*>(p)));
}
inline __m256i bcast64(const int16_t* p) {
  return _mm256_castpd_si256(_mm256_broadcast_sd(reinterpret_cast<const double*>(p)));
}

// NT activation rows × one 16-row q4 block; halves h = rows 8h .. 8h+7 (bytes 32h of a word).
template <int kGroup, int NT>
void tile_q4(const TileArgs& a) {
  constexpr int n = kGroup / 8;  // words per group (8 codes of a row per word)
  constexpr auto kHint = NT == 1 ? _MM_HINT_T1 : _MM_HINT_T0;  // decode: into L2, as avx512
  const __m256i nib = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  const int8_t* x[NT];
  for (int t = 0; t < NT; ++t) x[t] = a.acts->row(a.m0 + t);
  __m256 facc[NT][2];
  for (int t = 0; t < NT; ++t) facc[t][0] = facc[t][1] = _mm256_setzero_ps();
  for (int64_t g = 0; g < a.groups; ++g) {
    const int64_t d0 = g * n;
    const uint8_t* wg = a.codes + 64 * d0;
    // Low nibbles pair with activation bytes [c·128 + 4·(d % 16), +4), high ones with +64.
    const int64_t off = d0 / 16 * 128 + 4 * (d0 % 16);
    for (int h = 0; h < 2; ++h) {
      __m256i s32[NT];
      for (int t = 0; t < NT; ++t) s32[t] = _mm256_setzero_si256();
      for (int k0 = 0; k0 < n; k0 += 4) {
        __m256i s16[NT];
        for (int t = 0; t < NT; ++t) s16[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int k = k0; k < k0 + 4; ++k) {
          if (h == 0) _mm_prefetch(reinterpret_cast<const char*>(wg + 64 * k) + kPrefetchBytes, kHint);
          const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(wg + 64 * k + 32 * h));
          const __m256i lo = _mm256_and_si256(wv, nib);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(wv, 4), nib);
          for (int t = 0; t < NT; ++t) {
            const __m256i pl = _mm256_maddubs_epi16(lo, bcast32(x[t] + off + 4 * k));
            const __m256i ph = _mm256_maddubs_epi16(hi, bcast32(x[t] + off + 64 + 4 * k));
            s16[t] = _mm256_add_epi16(s16[t], _mm256_add_epi16(pl, ph));
          }
        }
        for (int t = 0; t < NT; ++t) s32[t] = _mm256_add_epi32(s32[t], _mm256_madd_epi16(s16[t], ones));
      }
      for (int t = 0; t < NT; ++t) {
        const float* xd = a.acts->d.data() + (a.m0 + t) * a.acts->groups;
        const float* xs = a.acts->sum.data() + (a.m0 + t) * a.acts->groups;
        facc[t][h] = combine8(a, g, h, facc[t][h], s32[t], xd[g], xs[g]);
      }
    }
  }
  for (int t = 0; t < NT; ++t)
    for (int h = 0; h < 2; ++h) _mm256_storeu_ps(a.acc + t * 16 + 8 * h, facc[t][h]);
}

// NT activation rows × one 16-row q8 block. Quarter q of a word (16 bytes) = rows 4q .. 4q+3,
// zero-extended to 16 int16; `vpmaddwd` with the row's 4 activations (a 64-bit broadcast)
// leaves two int32 lanes per row.
template <int kGroup, int NT>
void tile_q8(const TileArgs& a) {
  constexpr int n = kGroup / 4;  // words per group
  constexpr auto kHint = NT == 1 ? _MM_HINT_T1 : _MM_HINT_T0;
  const int16_t* x[NT];
  for (int t = 0; t < NT; ++t) x[t] = reinterpret_cast<const int16_t*>(a.acts->row(a.m0 + t));
  __m256 facc[NT][2];
  for (int t = 0; t < NT; ++t) facc[t][0] = facc[t][1] = _mm256_setzero_ps();
  for (int64_t g = 0; g < a.groups; ++g) {
    const uint8_t* wg = a.codes + 64 * g * n;
    __m256i s[NT][4];
    for (int t = 0; t < NT; ++t)
      for (int q = 0; q < 4; ++q) s[t][q] = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int k = 0; k < n; ++k) {
      _mm_prefetch(reinterpret_cast<const char*>(wg + 64 * k) + kPrefetchBytes, kHint);
      __m256i xb[NT];
      for (int t = 0; t < NT; ++t) xb[t] = bcast64(x[t] + g * kGroup + 4 * k);
      for (int q = 0; q < 4; ++q) {
        const __m256i w16 =
            _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(wg + 64 * k + 16 * q)));
        for (int t = 0; t < NT; ++t) s[t][q] = _mm256_add_epi32(s[t][q], _mm256_madd_epi16(w16, xb[t]));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const float* xd = a.acts->d.data() + (a.m0 + t) * a.acts->groups;
      const float* xs = a.acts->sum.data() + (a.m0 + t) * a.acts->groups;
      for (int h = 0; h < 2; ++h) {
        // hadd: [r0 r1 r4 r5 | r2 r3 r6 r7] of rows 8h..; the permute puts them in order.
        const __m256i pairs = _mm256_hadd_epi32(s[t][2 * h], s[t][2 * h + 1]);
        const __m256i rows = _mm256_permute4x64_epi64(pairs, _MM_SHUFFLE(3, 1, 2, 0));
        facc[t][h] = combine8(a, g, h, facc[t][h], rows, xd[g], xs[g]);
      }
    }
  }
  for (int t = 0; t < NT; ++t)
    for (int h = 0; h < 2; ++h) _mm256_storeu_ps(a.acc + t * 16 + 8 * h, facc[t][h]);
}

// Tile widths: as many activation rows as leave registers (16 ymm) for the weights.
constexpr int kTileQ4 = 4;
constexpr int kTileQ8 = 2;

using TileFn = void (*)(const TileArgs&);

template <int kBits, int kGroup, int... Ns>
constexpr std::array<TileFn, sizeof...(Ns) + 1> tile_row(std::integer_sequence<int, Ns...>) {
  if constexpr (kBits == 4)
    return {nullptr, &tile_q4<kGroup, Ns + 1>...};
  else
    return {nullptr, &tile_q8<kGroup, Ns + 1>...};
}
template <int kBits, int kWidth>
constexpr std::array<std::array<TileFn, kWidth + 1>, 3> tile_table() {
  constexpr auto ns = std::make_integer_sequence<int, kWidth>{};
  return {tile_row<kBits, 32>(ns), tile_row<kBits, 64>(ns), tile_row<kBits, 128>(ns)};
}
constexpr auto kTilesQ4 = tile_table<4, kTileQ4>();
constexpr auto kTilesQ8 = tile_table<8, kTileQ8>();

// Without the loader's copy (QLM_INTERLEAVE=0, a matrix made outside the loader), block r0 / 16
// in the interleaved layout, built per call in thread-local memory.
const uint8_t* interleave_block_here(const WeightMatrix& w, int64_t r0) {
  struct alignas(64) Word {
    uint8_t bytes[64];
  };
  thread_local std::vector<Word> buf;
  const size_t words = w.row_bytes() / 4;
  if (buf.size() < words) buf.resize(words);
  interleave_block(w, r0 / 16, buf.data()->bytes);
  return buf.data()->bytes;
}

void int8_blocks(const WeightMatrix& w, const float* bias, const Int8Acts& acts, int64_t n_rows, float* y,
                 int64_t blk_begin, int64_t blk_end) {
  const int width = w.bits == 4 ? kTileQ4 : kTileQ8;
  const int gi = w.group_size == 32 ? 0 : w.group_size == 64 ? 1 : 2;
  const TileFn* tiles = w.bits == 4 ? kTilesQ4[gi].data() : kTilesQ8[gi].data();
  const int64_t row_bytes = static_cast<int64_t>(w.row_bytes());
  alignas(32) float acc[std::max(kTileQ4, kTileQ8) * 16];
  for (int64_t blk = blk_begin; blk < blk_end; ++blk) {
    const int64_t r0 = blk * 16;
    DType dt;
    const uint8_t* params = block_params(w, r0, &dt);
    if (w.blocked_params && blk + 1 < blk_end)  // the next block's scales, while this one runs
      prefetch_lines(blocked_params_block(w, blk + 1), blocked_params_block_bytes(w));
    const uint8_t* codes = w.interleaved_codes ? w.interleaved_codes.get() + r0 * row_bytes : interleave_block_here(w, r0);
    TileArgs a{codes, w.groups_per_row(), &acts, 0, params, dt, acc};
    const int n_valid = static_cast<int>(std::min<int64_t>(16, w.rows - r0));
    for (int64_t m0 = 0; m0 < n_rows; m0 += width) {
      const int nt = static_cast<int>(std::min<int64_t>(width, n_rows - m0));
      a.m0 = m0;
      tiles[nt](a);
      for (int t = 0; t < nt; ++t) {
        float* yr = y + (m0 + t) * w.rows + r0;
        for (int i = 0; i < n_valid; ++i) yr[i] = bias != nullptr ? acc[t * 16 + i] + bias[r0 + i] : acc[t * 16 + i];
      }
    }
  }
}

}  // namespace

bool int8_ready(const WeightMatrix& w) {
  return w.int8_kernel_format();
}

void matmul_int8_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                       int64_t n_rows, float* const* ys) {
  thread_local Int8Acts tls_acts;  // grown once per calling thread
  quantize_acts(x, n_rows, ws[0]->cols, ws[0]->group_size, ws[0]->bits, tls_acts);
  const Int8Acts* const acts = &tls_acts;  // inside the team, by pointer (not each thread's own)
  for_block_chunks(ws, count, n_rows, [&](int i, int64_t begin, int64_t end) {
    int8_blocks(*ws[i], biases[i], *acts, n_rows, ys[i], begin, end);
  });
}

}  // namespace qlm::avx2
