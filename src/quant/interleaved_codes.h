// The codes of an affine matrix interleaved per 16-row block for the AVX-512 int8 kernels
// (WeightMatrix::interleaved_codes): block b holds, for each 4-byte word j of a row, that word
// of the block's 16 rows side by side (64 bytes: one vector). One `vpdpbusd` with 4 activation
// bytes broadcast then adds 4 products into all 16 outputs, so a kernel needs neither the
// per-call transposes of the row-major layout nor a horizontal reduction. The bytes are the
// MLX ones, only moved (q4 nibbles stay packed), so the copy is as large as the codes and
// every result is unchanged. Rows past the end of the last block repeat the last row.
#pragma once

#include <memory>

#include "base/page_arena.h"
#include "quant/weight_matrix.h"

namespace qlm {

// False when QLM_INTERLEAVE=0: the loader (and qlm_kernel_bench) then keep only the file's
// layout, for measuring what the copy buys.
bool interleaving_enabled();

// True for q4/q8 affine matrices with groups of 32, 64 or 128 (what the int8 kernels read).
bool has_interleaved_form(const WeightMatrix& m);

// Builds and attaches m.interleaved_codes where has_interleaved_form(m); other matrices are
// left as they are. The copy takes a slot of `arena` (one with room for it) or, when null,
// memory of its own.
void attach_interleaved_codes(WeightMatrix& m, const std::shared_ptr<PageArena>& arena = nullptr);
// The same into `reuse`, a buffer of the right size this matrix had before (a weight sync
// refilling it in place: no new pages to fault in, and it keeps the load arena's 2 MB pages).
void attach_interleaved_codes(WeightMatrix& m, std::shared_ptr<uint8_t> reuse);

// Block b (rows 16b .. 16b+15) in the interleaved layout: 16·row_bytes() bytes to out. The
// copy is made of these; a kernel meeting a matrix without one builds them per call.
void interleave_block(const WeightMatrix& m, int64_t b, uint8_t* out);

// Bytes of the interleaved copy: whole 16-row blocks of row_bytes().
size_t interleaved_codes_bytes(const WeightMatrix& m);

// Row r as dequantize_row(m, r, out) computes it, reading the codes from the interleaved copy
// (m must have one): embedding lookups then leave the mapped codes of a tied embedding unread.
void dequantize_interleaved_row(const WeightMatrix& m, int64_t r, float* out);

}  // namespace qlm
