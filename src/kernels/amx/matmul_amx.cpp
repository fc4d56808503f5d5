// q4/q8 affine weights × int8 activations on AMX tiles, for n_rows ≥ 16 (prefill, big batches).
// C[16 weight rows][16 tokens] += A[16 rows][K weight codes, u8] · B[K/4][16 tokens][4, s8]
// per weight group (tdpbusd); q8 codes tile straight from the MLX rows (stride = row bytes),
// q4 codes are split into low/high nibbles once per 16-row block. The exact integer group
// sums then go through the AVX-512 kernel's float expression, so outputs match it bit for bit.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/amx/amx.h"
#include "kernels/avx512/act_quant.h"
#include "kernels/avx512/avx512.h"
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

// Per group: `steps` tdpbusd of K bytes. q4: low nibbles then high ones (K = g/2); q8: K =
// min(g, 64) codes per step.
struct Plan {
  int bits, K, steps;
  int64_t groups, group_bytes;
  // Byte offset of (group, step) in an activation row (act_quant.h layout).
  int64_t act_offset(int64_t g, int st) const {
    if (bits == 8) return g * group_bytes + st * K;
    const int64_t byte = g * group_bytes;  // within the packed weight row
    return (byte / 64) * 128 + st * 64 + byte % 64;
  }
};

// Activation rows -> B tiles: [token block][4-byte unit][16 tokens][4]; missing tokens are 0.
void build_b(const QuantizedActs& a, int64_t n_rows, std::vector<int8_t>& vnni, std::vector<float>& dT,
             std::vector<float>& sT) {
  const int64_t n_tb = (n_rows + 15) / 16, units = a.row_stride / 4;
  vnni.assign(static_cast<size_t>(n_tb * units * 64), 0);
  dT.assign(static_cast<size_t>(n_tb * a.groups * 16), 0.0f);
  sT.assign(dT.size(), 0.0f);
  for (int64_t m = 0; m < n_rows; ++m) {
    const int64_t tb = m / 16, n = m % 16;
    const int8_t* src = a.row(m);
    int8_t* dst = vnni.data() + tb * units * 64 + n * 4;
    for (int64_t u = 0; u < units; ++u) std::memcpy(dst + u * 64, src + u * 4, 4);
    for (int64_t g = 0; g < a.groups; ++g) {
      dT[(tb * a.groups + g) * 16 + n] = a.d[m * a.groups + g];
      sT[(tb * a.groups + g) * 16 + n] = a.sum[m * a.groups + g];
    }
  }
}

// q4 block of 16 rows -> [group][nibble][16 rows][K] codes, each a ready A tile (stride K).
void unpack_q4(const uint8_t* const rows[16], const Plan& p, uint8_t* out) {
  const __m512i nib = _mm512_set1_epi8(0x0F);
  const __mmask64 m = p.K == 64 ? ~__mmask64(0) : ((__mmask64(1) << p.K) - 1);
  for (int64_t g = 0; g < p.groups; ++g)
    for (int i = 0; i < 16; ++i) {
      const __m512i w = _mm512_maskz_loadu_epi8(m, rows[i] + g * p.group_bytes);
      uint8_t* lo = out + ((g * 2 + 0) * 16 + i) * p.K;
      uint8_t* hi = out + ((g * 2 + 1) * 16 + i) * p.K;
      _mm512_mask_storeu_epi8(lo, m, _mm512_and_si512(w, nib));
      _mm512_mask_storeu_epi8(hi, m, _mm512_and_si512(_mm512_srli_epi16(w, 4), nib));
    }
}

void full_blocks(const WeightMatrix& w, const float* bias, const Plan& p, int64_t n_rows,
                 const int8_t* vnni, const float* dT, const float* xsT, int64_t units, int64_t blk_begin,
                 int64_t blk_end, float* y) {
  TileConfig cfg;
  cfg.rows[0] = 16, cfg.colsb[0] = 64;                             // C: 16 rows × 16 int32
  cfg.rows[1] = 16, cfg.colsb[1] = static_cast<uint16_t>(p.K);     // A: 16 rows × K codes
  cfg.rows[2] = static_cast<uint8_t>(p.K / 4), cfg.colsb[2] = 64;  // B: K/4 × 16 tokens × 4
  load_config(cfg);
  const avx512::BlockParams bp = avx512::block_params(w);
  thread_local std::vector<float> sb;
  thread_local std::vector<uint8_t> unpacked;
  if (p.bits == 4) unpacked.resize(static_cast<size_t>(p.groups * 2 * 16 * p.K));
  alignas(64) int32_t cbuf[16 * 16];
  alignas(64) float out[16 * 16];
  const int64_t n_tb = (n_rows + 15) / 16;
  for (int64_t blk = blk_begin; blk < blk_end; ++blk) {
    const int64_t r0 = blk * 16;
    const uint8_t* rows[16];
    avx512::block_setup(w, bp, r0, rows, sb);
    const float* sw = sb.data();
    const float* bw = sb.data() + p.groups * 16;
    if (p.bits == 4) unpack_q4(rows, p, unpacked.data());
    for (int64_t tb = 0; tb < n_tb; ++tb) {
      __m512 acc[16];
      for (auto& a : acc) a = _mm512_setzero_ps();
      const int8_t* btile = vnni + tb * units * 64;
      for (int64_t g = 0; g < p.groups; ++g) {
        _tile_zero(0);
        for (int st = 0; st < p.steps; ++st) {
          if (p.bits == 4)
            _tile_loadd(1, unpacked.data() + (g * 2 + st) * 16 * p.K, p.K);
          else
            _tile_loadd(1, rows[0] + g * p.group_bytes + st * p.K, bp.row_bytes);
          _tile_loadd(2, btile + p.act_offset(g, st) / 4 * 64, 64);
          _tile_dpbusd(0, 1, 2);
        }
        _tile_stored(0, cbuf, 64);
        const __m512 xd = _mm512_loadu_ps(dT + (tb * p.groups + g) * 16);
        const __m512 xs = _mm512_loadu_ps(xsT + (tb * p.groups + g) * 16);
        for (int r = 0; r < 16; ++r) {  // lanes = tokens; same ops as avx512::combine_group
          __m512 t = _mm512_mul_ps(_mm512_set1_ps(sw[g * 16 + r]), _mm512_cvtepi32_ps(_mm512_load_si512(cbuf + r * 16)));
          t = _mm512_fmadd_ps(_mm512_set1_ps(bw[g * 16 + r]), xs, t);
          acc[r] = _mm512_fmadd_ps(xd, t, acc[r]);
        }
      }
      for (int r = 0; r < 16; ++r) {
        __m512 v = acc[r];
        if (bias != nullptr) v = _mm512_add_ps(v, _mm512_set1_ps(bias[r0 + r]));
        _mm512_store_ps(out + r * 16, v);
      }
      const int64_t n_tok = std::min<int64_t>(16, n_rows - tb * 16);
      for (int64_t n = 0; n < n_tok; ++n)
        for (int r = 0; r < 16; ++r) y[(tb * 16 + n) * w.rows + r0 + r] = out[r * 16 + n];
    }
  }
  _tile_release();
}

}  // namespace

void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y) {
  if (n_rows < 16 || w.rows < 16 || !avx512::int8_supported(w)) return avx512::matmul(w, bias, x, n_rows, y);
  thread_local QuantizedActs tls_acts;
  thread_local std::vector<int8_t> tls_vnni;
  thread_local std::vector<float> tls_d, tls_s;
  avx512::quantize_acts(x, n_rows, w.cols, w.group_size, w.bits, tls_acts);
  build_b(tls_acts, n_rows, tls_vnni, tls_d, tls_s);
  Plan p{.bits = w.bits, .K = 0, .steps = 0, .groups = w.groups_per_row(),
         .group_bytes = w.group_size * w.bits / 8};
  if (w.bits == 4) p.K = w.group_size / 2, p.steps = 2;
  else p.K = std::min(w.group_size, 64), p.steps = w.group_size / p.K;
  // Inside the team thread_local names mean each worker's own copy: share by pointer.
  const QuantizedActs* acts = &tls_acts;
  const int8_t* vnni = tls_vnni.data();
  const float *dT = tls_d.data(), *sT = tls_s.data();
  const int64_t full = w.rows / 16, units = tls_acts.row_stride / 4;
#pragma omp parallel
  {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    available();  // tile permission is per process; asked before any tile use
    full_blocks(w, bias, p, n_rows, vnni, dT, sT, units, full * t / nt, full * (t + 1) / nt, y);
    if (t == nt - 1 && w.rows % 16 != 0) avx512::int8_blocks(w, bias, *acts, n_rows, y, full, full + 1);
  }
}

}  // namespace qlm::amx
