// The compute kernels behind the forward pass, as one table of function pointers filled once
// at start-up (QLM_ISA=ref forces the scalar reference). Every entry has a scalar reference
// in kernels/ref that is its specification. Float reductions run in a fixed order, so results
// never depend on the thread count.
#pragma once

#include <cstdint>
#include <string>

#include "quant/weight_matrix.h"

namespace qlm {

// Positions per span of a KV cache (KVCache's layout): keys and values come in spans of 256
// positions; inside a span, K in blocks of 16 keys at k_block_stride, V rows at v_stride; the
// next span starts span_stride further on (a cache of at most 256 positions is one span).
constexpr int kKvSpan = 256;

// One query row's attention for one KV head and the `group` query heads that read it (GQA):
// each K/V vector is read once for all of them. Keys 0 .. n_keys-1 (causal: the row's
// position + 1). K comes in blocks of 16 keys, dimension-major: key p, dimension i at
// key_block(a, kv, p) + i * 16 + p % 16; lanes of the last block past n_keys may hold
// anything and are never used. Value p, dimension i at value_row(a, kv, p) + i. An F16 cache
// sets the *_f16 pointers instead of the F32 ones (each value widened exactly as it is read).
// Keys before prefix_keys (whole spans) may live in a second cache with the same strides: the
// prompt's, shared by the samples forked from it; then k/v hold key prefix_keys onward.
struct AttentionHead {
  const float* q = nullptr;  // [group][head_dim]
  const float* k = nullptr;
  const float* v = nullptr;
  const uint16_t* k_f16 = nullptr;
  const uint16_t* v_f16 = nullptr;
  const float* prefix_k = nullptr;  // keys 0 .. prefix_keys-1, when prefix_keys > 0
  const float* prefix_v = nullptr;
  const uint16_t* prefix_k_f16 = nullptr;
  const uint16_t* prefix_v_f16 = nullptr;
  int prefix_keys = 0;         // a multiple of kKvSpan
  int64_t k_block_stride = 0;  // inside a span
  int64_t v_stride = 0;        // inside a span
  int64_t span_stride = 0;     // from one span of kKvSpan positions to the next
  int n_keys = 0;
  int group = 1;
  int head_dim = 0;
  float scale = 1.0f;          // usually 1/sqrt(head_dim)
  float* out = nullptr;        // [group][head_dim]
  float* scores = nullptr;     // scratch: attention_scratch_floats(group, n_keys) floats
};

// A head's K/V in the cache's element type E (float, or uint16_t for F16 halves).
template <class E>
struct KvView {
  const E* k;
  const E* v;
  const E* prefix_k;
  const E* prefix_v;
};
inline KvView<float> kv_view(const AttentionHead& a, float) { return {a.k, a.v, a.prefix_k, a.prefix_v}; }
inline KvView<uint16_t> kv_view(const AttentionHead& a, uint16_t) {
  return {a.k_f16, a.v_f16, a.prefix_k_f16, a.prefix_v_f16};
}

// The part of the cache holding key p (the shared prefix, or own), p made relative to it.
template <class E>
const E* key_segment(const AttentionHead& a, const E* own, const E* prefix, int& p) {
  if (p < a.prefix_keys) return prefix;
  p -= a.prefix_keys;
  return own;
}
// The K block holding key p ([head_dim][16]).
template <class E>
const E* key_block(const AttentionHead& a, const KvView<E>& kv, int p) {
  const E* base = key_segment(a, kv.k, kv.prefix_k, p);
  return base + p / kKvSpan * a.span_stride + p % kKvSpan / 16 * a.k_block_stride;
}
// Value row p (head_dim values); rows are v_stride apart up to the end of p's span.
template <class E>
const E* value_row(const AttentionHead& a, const KvView<E>& kv, int p) {
  const E* base = key_segment(a, kv.v, kv.prefix_v, p);
  return base + p / kKvSpan * a.span_stride + p % kKvSpan * a.v_stride;
}

// Scratch floats an attention call needs (scores of every head, padded to whole vectors).
inline int64_t attention_scratch_floats(int group, int n_keys) {
  return static_cast<int64_t>(group) * ((n_keys + 15) / 16 * 16);
}

struct KernelTable {
  std::string isa;  // "ref", ...
  // y[m][r] = sum_c x[m][c] * w[r][c] (+ bias[r] if bias) for m < n_rows.  x: [n_rows][w.cols],
  // y: [n_rows][w.rows].
  void (*matmul)(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);
  // Several matrices applied to the same input (q/k/v, gate/up): ys[i] = x · ws[i]ᵀ (+ bias[i]).
  // Same results as `count` matmul calls; the fast tables quantize x once and split the
  // rows of all matrices across the threads in one parallel region (one barrier, not count).
  void (*matmul_multi)(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                       int64_t n_rows, float* const* ys);
  // Softmax(q·kᵀ·scale)·v per head of the group; each sum in an order fixed by n_keys alone
  // (never by the batch or thread), so a row's output depends only on its own inputs.
  void (*attend)(const AttentionHead& a);
  // gate[i] = silu(gate[i]) * up[i].
  void (*silu_mul)(float* gate, const float* up, int64_t n);
  // The matmuls read WeightMatrix::interleaved_codes where a matrix has them (and are faster
  // with them); the model loader builds them for this table. Results are the same either way.
  bool reads_interleaved_codes = false;
};

// The table chosen for this process (first call decides; QLM_ISA overrides).
const KernelTable& kernels();

// Tables for each ISA this binary has, for tests that compare them ("ref" always exists).
const KernelTable* kernel_table_for(const std::string& isa);

namespace ref {
void matmul(const WeightMatrix& w, const float* bias, const float* x, int64_t n_rows, float* y);
void matmul_multi(const WeightMatrix* const* ws, const float* const* biases, int count, const float* x,
                  int64_t n_rows, float* const* ys);
void attend(const AttentionHead& a);
void silu_mul(float* gate, const float* up, int64_t n);
}

}  // namespace qlm
