// Small per-row operations of the forward pass (scalar; SiLU and attention are KernelTable
// entries because profiling showed them next to the matmuls).
#pragma once

#include <cstdint>

namespace qlm {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i], for one row of n.
void rms_norm(const float* x, const float* weight, float eps, int64_t n, float* out);

// cos/sin of RoPE angles pos * theta^(-2i/head_dim) for i < head_dim/2.
void rope_angles(int pos, int head_dim, double theta, float* cos_out, float* sin_out);

// Hugging Face rotate-half RoPE on one head vector of head_dim values, in place:
// (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin) with x1 = first half, x2 = second half.
void rope_rotate_half(float* head, int head_dim, const float* cos, const float* sin);

}  // namespace qlm
