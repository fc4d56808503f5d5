// Entry points of the AVX-512 (F/BW/VL/VNNI) kernels. Declarations only: callers need no ISA
// flags; the definitions live in files compiled with -mavx512* (see kernels/CMakeLists.txt).
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"
#include "quant/weight_matrix.h"

namespace qlm::avx512 {

// Same contract as KernelTable::matmul. q4/q8 affine with g32/64/128 run on int8 VNNI;
// F32/F16/BF16 weights on FMA; any other affine width falls back to the reference.
void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);

// True if the int8 path handles this matrix (the AMX kernels share its activation format).
bool int8_supported(const WeightMatrix& w);

// Whether count >= 1 matrices can share one activation quantization: all int8-supported,
// with the same bits, group size and input size.
bool share_int8_format(const WeightMatrix* const* ws, int count);

// KernelTable::matmul_multi: int8 matrices of one format share one activation quantization
// and one parallel region; anything else runs as separate matmul calls.
void matmul_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                  int64_t n_rows, float* const* ys);

// KernelTable::attend and ::silu_mul (vector exp, fixed reduction orders).
void attend(const AttentionHead& a);
void silu_mul(float* gate, const float* up, int64_t n);

struct QuantizedActs;
// The int8 VNNI kernel on 16-row weight blocks [blk_begin, blk_end), single-threaded; AMX
// uses it for the rows its tiles don't cover (same float order, so the same bits).
void int8_blocks(const WeightMatrix& w, const float* bias, const QuantizedActs& acts, int64_t n_rows,
                 float* y, int64_t blk_begin, int64_t blk_end);
// The same for several activation rows: each block packed once, then tiles of rows
// (gemm_int8.cpp). int8_blocks calls it from 2-3 rows on; same bits either way.
void int8_gemm_blocks(const WeightMatrix& w, const float* bias, const QuantizedActs& acts, int64_t n_rows,
                      float* y, int64_t blk_begin, int64_t blk_end);

}  // namespace qlm::avx512
