// q4/q8 affine weights × int8 activations on AMX tiles, for n_rows ≥ 16 (prefill, big batches).
// C[16 weight rows][16 tokens] += A[16 rows][K weight codes, u8] · B[K/4][16 tokens][4, s8]
// per weight group (tdpbusd), in 2×2 blocks of tiles; q8 codes tile straight from the MLX rows
// (stride = row bytes) for up to 32 tokens and from a contiguous copy of the 16-row block for
// more; q4 codes are split into low/high nibbles (per chunk of groups, or once per block). q8
// activations have two int8 levels (act_quant.h): each token block has a B tile per level, and
// the sums combine as 256·S1 + S2 in int32 before the float epilogue. The
// exact integer group sums then go through the AVX-512 kernel's float expression, so outputs
// match it bit for bit. Output tiles are transposed in registers for contiguous stores.
#include "kernels/amx/amx.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/half.h"
#include "kernels/avx512/act_quant.h"
#include "kernels/avx512/avx512.h"
#include "quant/blocked_params.h"
#include "quant/weight_matrix.h"

// Everything below is compiled for AMX and AVX-512 (the pragma, not -m flags: see
// kernels/CMakeLists.txt). What the headers above define stays baseline x86-64.
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16,amx-tile,amx-int8,amx-bf16")

#include "kernels/avx512/int8_block.h"

namespace qlm::amx {

namespace {

using avx512::QuantizedActs;

struct alignas(64) TileConfig {  // the 64-byte palette-1 layout ldtilecfg reads
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);
struct Bytes64 {
  char b[64];
};

// GCC 12's _tile_loadconfig declares an 8-byte operand, so the optimiser may drop the stores
// filling the config (then the first tile op raises SIGILL); this asm names all 64 bytes.
inline void load_config(const TileConfig& cfg) {
  asm volatile("ldtilecfg %0" ::"m"(*reinterpret_cast<const Bytes64*>(&cfg)));
}

// Per group: `steps` tdpbusd of K = min(group_size, 64) bytes. A tile row = one weight row's
// codes of the group in "A order": q8 the codes as stored; q4 the low nibbles of the group's
// packed bytes, then the high ones (so one K=64 step covers a whole g64 group).
struct Plan {
  int bits, group_size, K, steps;
  int levels;  // activation levels: 2 for q8 (act_quant.h), else 1
  int64_t groups, group_bytes;
  // Byte of the quantized activation row (act_quant.h layout) that meets A position k of group g.
  int64_t act_byte(int64_t g, int k) const {
    if (bits == 8) return g * group_size + k;
    const int64_t byte = g * group_bytes;  // where the group starts in the packed weight row
    const int64_t base = (byte / 64) * 128 + byte % 64;
    return k < group_bytes ? base + k : base + 64 + (k - group_bytes);
  }
};

// Activation rows -> B tiles, each a contiguous tile: [token block][level][group][k / 4][16
// tokens][4 bytes], k in A order; tokens past n_rows are 0. dT/sT: [token block][group][16].
// Tiles are addressed by "B block" tb * levels + level.
// Per (token block, group, step) the 16 tokens' K bytes are loaded as 16 vectors of 16
// dwords and transposed in registers, so each k/4 row of the tile is one 64-byte store.
void build_b(const QuantizedActs& a, const Plan& p, int64_t n_rows, std::vector<int8_t>& vnni,
             std::vector<float>& dT, std::vector<float>& sT) {
  const int64_t n_tb = (n_rows + 15) / 16, units = p.group_size / 4;
  const size_t tile_bytes = static_cast<size_t>(p.groups * units * 64), tile_params = static_cast<size_t>(a.groups * 16);
  if (vnni.size() < n_tb * p.levels * tile_bytes) vnni.resize(n_tb * p.levels * tile_bytes);
  if (dT.size() < n_tb * tile_params) dT.resize(n_tb * tile_params), sT.resize(n_tb * tile_params);
  int8_t* const vp = vnni.data();
  float *const dp = dT.data(), *const sp = sT.data();
  // A step's K bytes are one run of the activation row (q8; q4 with g128), or the group's low
  // nibble positions then its high ones, K/2 each, 64 bytes apart in the row (q4 g32/g64).
  const bool split = p.bits == 4 && p.K > p.group_bytes;
  const int half = p.K / 2;
  const __mmask64 whole = p.K == 64 ? ~__mmask64(0) : ((__mmask64(1) << p.K) - 1);
  const __mmask64 low = (__mmask64(1) << half) - 1, high = whole & ~low;
  // Token tiles are independent; prefill has dozens, so they are built in parallel.
#pragma omp parallel for schedule(static) if (n_tb >= 4)
  for (int64_t tb = 0; tb < n_tb; ++tb) {
    const int64_t valid = std::min<int64_t>(16, n_rows - tb * 16);
    for (int64_t g = 0; g < p.groups; ++g) {
      for (int64_t step = 0; step < p.steps * p.levels; ++step) {
        const int st = static_cast<int>(step % p.steps);
        const int64_t level = step / p.steps, bb = tb * p.levels + level;
        __m512 v[16];
        for (int64_t n = 0; n < 16; ++n) {
          if (n >= valid) {
            v[n] = _mm512_setzero_ps();
            continue;
          }
          const int8_t* src = a.row(tb * 16 + n) + level * a.level_bytes + p.act_byte(g, st * p.K);
          __m512i b = _mm512_maskz_loadu_epi8(split ? low : whole, src);
          if (split) b = _mm512_mask_loadu_epi8(b, high, src + 64 - half);  // byte half.. from +64
          v[n] = _mm512_castsi512_ps(b);
        }
        avx512::transpose16(v);  // row u = dword u (bytes 4u..4u+3) of every token
        int8_t* tile = vp + ((bb * p.groups + g) * units + st * p.K / 4) * 64;
        for (int u = 0; u < p.K / 4; ++u) _mm512_storeu_ps(reinterpret_cast<float*>(tile + u * 64), v[u]);
      }
      for (int64_t n = 0; n < 16; ++n) {
        dp[(tb * a.groups + g) * 16 + n] = n < valid ? a.d[(tb * 16 + n) * a.groups + g] : 0.0f;
        sp[(tb * a.groups + g) * 16 + n] = n < valid ? a.sum[(tb * 16 + n) * a.groups + g] : 0.0f;
      }
    }
  }
}

// q4 block of 16 rows -> [group][16 rows][group_size codes in A order]: ready A tiles.
void unpack_q4(const uint8_t* const rows[16], const Plan& p, int64_t g0, int64_t g1, uint8_t* out) {
  const __m512i nib = _mm512_set1_epi8(0x0F);
  if (p.group_bytes == 32) {  // g64, the common case: one 32-byte load, one 64-byte store per row
    for (int i = 0; i < 16; ++i)
      for (int64_t g = g0; g < g1; ++g) {
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i] + g * 32));
        const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(w), _mm256_srli_epi16(w, 4), 1);
        _mm512_store_si512(out + ((g - g0) * 16 + i) * 64, _mm512_and_si512(both, nib));
      }
    return;
  }
  const __mmask64 m = p.group_bytes == 64 ? ~__mmask64(0) : ((__mmask64(1) << p.group_bytes) - 1);
  for (int i = 0; i < 16; ++i)  // row by row: the block is contiguous, so this reads it in order
    for (int64_t g = g0; g < g1; ++g) {
      const __m512i w = _mm512_maskz_loadu_epi8(m, rows[i] + g * p.group_bytes);
      uint8_t* dst = out + ((g - g0) * 16 + i) * p.group_size;
      _mm512_mask_storeu_epi8(dst, m, _mm512_and_si512(w, nib));
      _mm512_mask_storeu_epi8(dst + p.group_bytes, m, _mm512_and_si512(_mm512_srli_epi16(w, 4), nib));
    }
}

// q8 block of 16 rows -> [group][16 rows][group_size codes]: the same A-tile order as q4, a copy.
void pack_q8(const uint8_t* const rows[16], const Plan& p, int64_t g0, int64_t g1, uint8_t* out) {
  const __mmask64 m = p.group_size >= 64 ? ~__mmask64(0) : ((__mmask64(1) << p.group_size) - 1);
  for (int i = 0; i < 16; ++i)
    for (int64_t g = g0; g < g1; ++g)
      for (int o = 0; o < p.group_size; o += 64)
        _mm512_mask_storeu_epi8(out + ((g - g0) * 16 + i) * p.group_size + o, m,
                                _mm512_maskz_loadu_epi8(m, rows[i] + g * p.group_bytes + o));
}

// One 16-row weight block, ready for tiles: A pointer per (group, step) and transposed params.
struct WeightBlock {
  int64_t r0 = 0;
  const uint8_t* rows[16];
  std::vector<float> sb;         // [2][groups][16]: scales, biases
  std::vector<uint8_t> unpacked;  // groups [unpacked_g0, ...) in A-tile order, if `packed`
  int64_t unpacked_g0 = 0;
  bool packed = false;  // q4 always; q8 when many token blocks reuse the block (else tiles read rows)
  // Groups [g0, g1) into `unpacked`: q4 split into nibbles, q8 copied.
  void unpack(const Plan& p, int64_t g0, int64_t g1) {
    const size_t need = static_cast<size_t>((g1 - g0) * 16 * p.group_size) + 64;
    if (unpacked.size() < need) unpacked.resize(need);
    // 64-byte aligned: whole-line stores here, whole-line tile rows there.
    a_base = unpacked.data() + (64 - reinterpret_cast<uintptr_t>(unpacked.data()) % 64) % 64;
    if (p.bits == 4) unpack_q4(rows, p, g0, g1, a_base);
    else pack_q8(rows, p, g0, g1, a_base);
    unpacked_g0 = g0;
    packed = true;
  }
  uint8_t* a_base = nullptr;
  const uint8_t* a_tile(const Plan& p, int64_t g, int st, int64_t row_bytes) const {
    if (packed) return a_base + (g - unpacked_g0) * 16 * p.group_size + st * p.K;
    return rows[0] + g * p.group_bytes + st * p.K;
  }
  int64_t a_stride(const Plan& p, int64_t row_bytes) const { return packed ? p.group_size : row_bytes; }
};

// NW weight blocks × NT token blocks (each 1 or 2) per step: C tiles 0..3 = (w0,t0) (w0,t1)
// (w1,t0) (w1,t1), A tiles 4, 5, B tiles 6, 7: each A and B tile load serves NT or NW
// tdpbusd. Only tile work here: every group's exact integer sums are stored to
// sums[group][tile][16 rows][16 tokens], and finish_tile turns them into floats afterwards.
// Interleaving the two per group (as before) left the tile unit and the vector ports each
// waiting for the other, with the float accumulators going through L1 every group.
template <int NW, int NT>
void tile_sums(const Plan& p, const WeightBlock* wb[2], int64_t row_bytes, const int8_t* vnni, const int64_t tbs[2],
               int64_t g0, int64_t g1, const char* pf, int64_t pf_lines, int32_t* sums) {
  constexpr int kTiles = NW * NT;
  const int64_t units = p.group_size / 4;
  for (int64_t g = g0; g < g1; ++g) {
    // A share of the next weight pair's cache lines per group: spread out, the prefetches
    // never fill the line-fill buffers at once (one burst before the pair stalled the loads).
    for (int64_t l = pf_lines * g / p.groups; l < pf_lines * (g + 1) / p.groups; ++l) _mm_prefetch(pf + l * 64, _MM_HINT_T1);
    _tile_zero(0);
    if constexpr (NT == 2) _tile_zero(1);
    if constexpr (NW == 2) _tile_zero(2);
    if constexpr (NW == 2 && NT == 2) _tile_zero(3);
    for (int st = 0; st < p.steps; ++st) {
      const int8_t* b0 = vnni + ((tbs[0] * p.groups + g) * units + st * p.K / 4) * 64;
      _tile_loadd(4, wb[0]->a_tile(p, g, st, row_bytes), wb[0]->a_stride(p, row_bytes));
      _tile_loadd(6, b0, 64);
      _tile_dpbusd(0, 4, 6);
      if constexpr (NT == 2) {
        _tile_loadd(7, vnni + ((tbs[1] * p.groups + g) * units + st * p.K / 4) * 64, 64);
        _tile_dpbusd(1, 4, 7);
      }
      if constexpr (NW == 2) {
        _tile_loadd(5, wb[1]->a_tile(p, g, st, row_bytes), wb[1]->a_stride(p, row_bytes));
        _tile_dpbusd(2, 5, 6);
        if constexpr (NT == 2) _tile_dpbusd(3, 5, 7);
      }
    }
    int32_t* out = sums + (g - g0) * kTiles * 256;
    _tile_stored(0, out, 64);
    if constexpr (NT == 2) _tile_stored(1, out + 256, 64);
    if constexpr (NW == 2) _tile_stored(2, out + NT * 256, 64);
    if constexpr (NW == 2 && NT == 2) _tile_stored(3, out + 3 * 256, 64);
  }
}

// One C tile (16 weight rows × 16 tokens) from its per-group sums to y. The 16 accumulators
// stay in registers across the groups; per element the ops and their order are those of
// avx512::combine_group, so outputs match the AVX-512 kernel bit for bit. The finished tile
// is transposed in registers so each token's 16 outputs go out in one contiguous store (the
// per-token gathers this replaced took ~45% of the kernel at 512 tokens, K = 896), with the
// bias added by the same single rounding as the scalar path.
// q8 (two activation levels): tile c holds the level-1 sums and tile c + 1 the level-2 ones.
void finish_tile(const Plan& p, const int32_t* sums, int tiles, int c, int64_t g0, int64_t g1,
                 const float* sb, const float* dT, const float* xsT, int64_t tb, float* acc_mem, const float* bias,
                 int64_t r0, int64_t n_rows, int64_t y_stride, float* y) {
  __m512 acc[16];
  for (int r = 0; r < 16; ++r) acc[r] = g0 == 0 ? _mm512_setzero_ps() : _mm512_load_ps(acc_mem + r * 16);
  const bool two = p.levels == 2;
  for (int64_t g = g0; g < g1; ++g) {
    const int32_t* s = sums + ((g - g0) * tiles + c) * 256;
    const float* sw = sb + g * 16;
    const float* bw = sb + (p.groups + g) * 16;
    const __m512 xd = _mm512_loadu_ps(dT + (tb * p.groups + g) * 16);
    const __m512 xs = _mm512_loadu_ps(xsT + (tb * p.groups + g) * 16);
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) {  // lanes = tokens
      __m512i isum = _mm512_load_si512(s + r * 16);
      if (two) isum = _mm512_add_epi32(_mm512_slli_epi32(isum, 8), _mm512_load_si512(s + 256 + r * 16));
      __m512 t = _mm512_mul_ps(_mm512_set1_ps(sw[r]), _mm512_cvtepi32_ps(isum));
      t = _mm512_fmadd_ps(_mm512_set1_ps(bw[r]), xs, t);
      acc[r] = _mm512_fmadd_ps(xd, t, acc[r]);
    }
  }
  if (g1 < p.groups) {  // more groups to come: park the accumulators
    for (int r = 0; r < 16; ++r) _mm512_store_ps(acc_mem + r * 16, acc[r]);
    return;
  }
  avx512::transpose16(acc);
  const int64_t n_tok = std::min<int64_t>(16, n_rows - tb * 16);
  const __m512 b = bias != nullptr ? _mm512_loadu_ps(bias + r0) : _mm512_setzero_ps();
  for (int64_t n = 0; n < n_tok; ++n) {
    const __m512 out = bias != nullptr ? _mm512_add_ps(acc[n], b) : acc[n];
    _mm512_storeu_ps(y + (tb * 16 + n) * y_stride + r0, out);
  }
}

void full_blocks(const WeightMatrix& w, const float* bias, const Plan& p, int64_t n_rows,
                 const int8_t* vnni, const float* dT, const float* xsT, int64_t blk_begin,
                 int64_t blk_end, float* y) {
  TileConfig cfg;
  for (int c = 0; c < 4; ++c) cfg.rows[c] = 16, cfg.colsb[c] = 64;  // C: 16 rows × 16 int32
  for (int a = 4; a < 6; ++a) cfg.rows[a] = 16, cfg.colsb[a] = static_cast<uint16_t>(p.K);  // A
  for (int b = 6; b < 8; ++b) cfg.rows[b] = static_cast<uint8_t>(p.K / 4), cfg.colsb[b] = 64;  // B
  load_config(cfg);
  const avx512::BlockParams bp = avx512::block_params(w);
  thread_local WeightBlock blocks[2];
  // Tile stores into lines that are not in L1 cost a read for ownership each, so the integer
  // sums go through a small buffer (kChunk groups × 4 tiles, 16 KB) that stays in L1, and the
  // float accumulators are parked in L1 between chunks (measured: a 56 KB sums buffer made
  // the tile work 1.5-2× slower than a 4-8 KB one).
  constexpr int64_t kChunk = 4;
  alignas(64) int32_t sums[kChunk * 4 * 256];
  alignas(64) float acc_mem[4][256];
  const int64_t n_tb = (n_rows + 15) / 16;
  const int64_t pair_bytes = 32 * bp.row_bytes;
  // With one pair of token tiles (up to 32 tokens) each q4 group is used once: unpack it just
  // before its tiles, into 8 KB that stay in L1 (a whole 16-row block unpacked is 14-76 KB
  // for these shapes, and storing it out of L1 made the unpack a quarter of a 32-token GEMM).
  // More tokens reuse every group, so the block is unpacked once, up front.
  const bool unpack_per_chunk = p.bits == 4 && n_tb <= 2;
  // q8 tiles read the MLX rows directly (stride = row bytes, 16 lines from 16 rows); with many
  // token blocks each A tile is loaded again per token block, mostly from L2, and the strided
  // loads stalled the tile unit. A contiguous copy of the block is loaded much faster.
  const bool pack_whole = n_tb > 2;  // q4 or q8; q4 with fewer unpacks per chunk instead
  for (int64_t blk = blk_begin; blk < blk_end; blk += 2) {
    const int nw = blk + 1 < blk_end ? 2 : 1;
    // Small batches are bound by streaming the weights: the next pair of blocks (one
    // contiguous stretch) is fetched into L2 while this one computes.
    const char* next = reinterpret_cast<const char*>(w.data + (blk + 2) * 16 * bp.row_bytes);
    const int64_t next_lines = blk + 2 < blk_end ? std::min<int64_t>(pair_bytes, (blk_end - blk - 2) * 16 * bp.row_bytes) / 64 : 0;
    const WeightBlock* wb[2] = {&blocks[0], &blocks[1]};
    for (int i = 0; i < nw; ++i) {
      WeightBlock& b = blocks[i];
      b.r0 = (blk + i) * 16;
      avx512::block_setup(w, bp, b.r0, b.rows, b.sb);
      b.packed = false;
      if (pack_whole) b.unpack(p, 0, p.groups);
    }
    // q8 pairs the two activation levels of one token block where q4 pairs two token blocks.
    const int64_t tb_step = p.levels == 2 ? 1 : 2;
    for (int64_t tb = 0; tb < n_tb; tb += tb_step) {
      const int nt = p.levels == 2 ? 2 : tb + 1 < n_tb ? 2 : 1;
      const int64_t tbs[2] = {tb * p.levels, tb * p.levels + 1};  // B blocks
      // Once per pair; each group of tile_sums issues its share of the next pair's lines.
      const int64_t pf_lines = tb == 0 ? next_lines : 0;
      for (int64_t g0 = 0; g0 < p.groups; g0 += kChunk) {
        const int64_t g1 = std::min(p.groups, g0 + kChunk);
        if (unpack_per_chunk)
          for (int i = 0; i < nw; ++i) blocks[i].unpack(p, g0, g1);
        if (nw == 2 && nt == 2) tile_sums<2, 2>(p, wb, bp.row_bytes, vnni, tbs, g0, g1, next, pf_lines, sums);
        else if (nw == 2) tile_sums<2, 1>(p, wb, bp.row_bytes, vnni, tbs, g0, g1, next, pf_lines, sums);
        else if (nt == 2) tile_sums<1, 2>(p, wb, bp.row_bytes, vnni, tbs, g0, g1, next, pf_lines, sums);
        else tile_sums<1, 1>(p, wb, bp.row_bytes, vnni, tbs, g0, g1, next, pf_lines, sums);
        for (int iw = 0; iw < nw; ++iw)
          for (int it = 0; it < nt / p.levels; ++it)
            finish_tile(p, sums, nw * nt, iw * nt + it, g0, g1, blocks[iw].sb.data(), dT, xsT, tb + it,
                        acc_mem[iw * nt + it], bias, blocks[iw].r0, n_rows, w.rows, y);
      }
    }
  }
  _tile_release();
}

// Activations quantized once and laid out as B tiles, for every matrix of a matmul call.
struct PreparedActs {
  const QuantizedActs* acts;
  const int8_t* vnni;
  const float *dT, *sT;
};

Plan plan_for(const WeightMatrix& w) {
  Plan p{.bits = w.bits, .group_size = w.group_size, .K = std::min(w.group_size, 64), .steps = 0,
         .levels = w.bits == 8 ? 2 : 1, .groups = w.groups_per_row(), .group_bytes = w.group_size * w.bits / 8};
  p.steps = w.group_size / p.K;
  return p;
}

PreparedActs prepare(const WeightMatrix& w, const Plan& p, const float* x, int64_t n_rows) {
  thread_local QuantizedActs tls_acts;
  thread_local std::vector<int8_t> tls_vnni;
  thread_local std::vector<float> tls_d, tls_s;
  avx512::quantize_acts(x, n_rows, w.cols, w.group_size, w.bits, tls_acts);
  build_b(tls_acts, p, n_rows, tls_vnni, tls_d, tls_s);
  // Inside the team thread_local names mean each worker's own copy: share by pointer.
  return {&tls_acts, tls_vnni.data(), tls_d.data(), tls_s.data()};
}

}  // namespace

void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  if (n_rows < 16 || w.rows < 16 || !avx512::int8_supported(w)) return avx512::matmul(w, bias, x, n_rows, y);
  const Plan p = plan_for(w);
  const PreparedActs a = prepare(w, p, x, n_rows);
  const int64_t full = w.rows / 16;
#pragma omp parallel
  {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    available();  // tile permission is per process; asked before any tile use
    full_blocks(w, bias, p, n_rows, a.vnni, a.dT, a.sT, full * t / nt, full * (t + 1) / nt, y);
    if (t == nt - 1 && w.rows % 16 != 0) avx512::int8_blocks(w, bias, *a.acts, n_rows, y, full, full + 1);
  }
}

// Matrices of one int8 format read the same activations (q/k/v, gate/up): one quantization,
// one B-tile build and one parallel region, each thread taking one contiguous stretch of the
// 16-row blocks of all the matrices end to end (as the AVX-512 matmul_multi does).
void matmul_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                  int64_t n_rows, float* const* ys) {
  if (n_rows < 16) return avx512::matmul_multi(ws, biases, count, x, n_rows, ys);
  bool shared = count <= 8 && avx512::share_int8_format(ws, count);
  for (int i = 0; i < count && shared; ++i) shared = ws[i]->rows >= 16;
  if (!shared) {
    for (int i = 0; i < count; ++i) matmul(*ws[i], biases[i], x, n_rows, ys[i]);
    return;
  }
  const Plan p = plan_for(*ws[0]);
  const PreparedActs a = prepare(*ws[0], p, x, n_rows);
  int64_t first[9] = {0};
  for (int i = 0; i < count; ++i) first[i + 1] = first[i] + ws[i]->rows / 16;
  const int64_t total = first[count];
#pragma omp parallel
  {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    available();
    const int64_t begin = total * t / nt, end = total * (t + 1) / nt;
    for (int i = 0; i < count; ++i) {
      const int64_t b = std::max(begin, first[i]), e = std::min(end, first[i + 1]);
      if (b < e) full_blocks(*ws[i], biases[i], p, n_rows, a.vnni, a.dT, a.sT, b - first[i], e - first[i], ys[i]);
    }
    if (t == nt - 1)
      for (int i = 0; i < count; ++i)
        if (ws[i]->rows % 16 != 0) {
          const int64_t full = ws[i]->rows / 16;
          avx512::int8_blocks(*ws[i], biases[i], *a.acts, n_rows, ys[i], full, full + 1);
        }
  }
}

}  // namespace qlm::amx
