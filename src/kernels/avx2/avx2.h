// Entry points of the AVX2 (+FMA, F16C) kernels, for x86-64 CPUs without AVX-512 (AMD Zen 2/3,
// older Intel). Declarations only; the definitions live in files compiled with -mavx2 -mfma
// -mf16c (see kernels/CMakeLists.txt).
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"
#include "quant/weight_matrix.h"

namespace qlm::avx2 {

// True where the CPU runs this table.
bool cpu_supported();

// KernelTable::matmul / ::matmul_multi. q4/q8 affine (g32/64/128) run on the int8 kernels, bit-identical to the AVX-512 ones; float
// weights on FMA; anything else on the reference.
void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);
void matmul_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                  int64_t n_rows, float* const* ys);

// Float weights (F32/F16/BF16) on FMA, no activation rounding.
void matmul_float(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);

// KernelTable::attend and ::silu_mul (vector exp, fixed reduction orders).
void attend(const AttentionHead& a);
void silu_mul(float* gate, const float* up, int64_t n);

// The int8 path: whether it takes w, and several matrices of one format sharing one
// activation quantization and one parallel region.
bool int8_ready(const WeightMatrix& w);
void matmul_int8_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                       int64_t n_rows, float* const* ys);

}  // namespace qlm::avx2
