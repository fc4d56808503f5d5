// Scalar reference of the attention and SiLU entries: the specification the vector kernels are
// tested against (and what QLM_ISA=ref runs, for the float64 PyTorch oracle tests).
#include <algorithm>
#include <cmath>

#include "base/half.h"
#include "kernels/kernel_table.h"

namespace qlm::ref {

namespace {
// In-place softmax; the sum in double so the reference stays as close to exact as is cheap.
void softmax(float* x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

float key(const AttentionHead& a, int p, int i) {
  const int64_t at = i * 16 + p % 16;
  return a.k_f16 != nullptr ? f16_to_float(key_block(a, kv_view(a, uint16_t{}), p)[at])
                            : key_block(a, kv_view(a, float{}), p)[at];
}
float value(const AttentionHead& a, int p, int i) {
  return a.v_f16 != nullptr ? f16_to_float(value_row(a, kv_view(a, uint16_t{}), p)[i])
                            : value_row(a, kv_view(a, float{}), p)[i];
}
}  // namespace

void attend(const AttentionHead& a) {
  const int hd = a.head_dim, n = a.n_keys;
  for (int h = 0; h < a.group; ++h) {
    const float* q = a.q + static_cast<int64_t>(h) * hd;
    float* scores = a.scores;  // one head at a time
    for (int p = 0; p < n; ++p) {
      float dot = 0.0f;
      for (int i = 0; i < hd; ++i) dot += q[i] * key(a, p, i);
      scores[p] = dot * a.scale;
    }
    softmax(scores, n);
    float* out = a.out + static_cast<int64_t>(h) * hd;
    std::fill_n(out, hd, 0.0f);
    for (int p = 0; p < n; ++p) {
      const float w = scores[p];
      for (int i = 0; i < hd; ++i) out[i] += w * value(a, p, i);
    }
  }
}

void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace qlm::ref
