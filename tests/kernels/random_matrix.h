// Random weight matrices that own their bytes, in every layout WeightMatrix describes (MLX
// affine q2..q8 with F16/BF16/F32 scales, or plain F32/F16/BF16), for kernel tests and benches.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "base/half.h"
#include "quant/affine.h"
#include "quant/weight_matrix.h"

namespace qlm::testing {

struct OwnedMatrix {
  std::vector<uint8_t> data, scales, biases;
  WeightMatrix w;
};

inline void store_param(DType t, float v, uint8_t* p, int64_t i) {
  if (t == DType::F32) {
    std::memcpy(p + 4 * i, &v, 4);
  } else {
    const uint16_t h = t == DType::BF16 ? float_to_bf16(v) : float_to_f16(v);
    std::memcpy(p + 2 * i, &h, 2);
  }
}

// Codes uniform in [0, 2^bits); scales ~ ±0.02 (some negative, as MLX writes them), biases
// centring each group near zero.
inline OwnedMatrix random_affine(int64_t rows, int64_t cols, int bits, int group, DType dt, uint32_t seed) {
  OwnedMatrix m;
  std::mt19937 rng(seed);
  const int64_t groups = cols / group;
  const size_t ps = dtype_size(dt);
  m.data.resize(static_cast<size_t>(rows * cols * bits / 8));
  m.scales.resize(rows * groups * ps);
  m.biases.resize(rows * groups * ps);
  std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<uint8_t> codes(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& c : codes) c = static_cast<uint8_t>(code(rng));
    pack_affine_codes(codes.data(), cols, bits, m.data.data() + r * cols * bits / 8);
    for (int64_t g = 0; g < groups; ++g) {
      const float s = 0.02f * u(rng) / static_cast<float>(1 << (bits - 4 > 0 ? bits - 4 : 0));
      store_param(dt, s, m.scales.data(), r * groups + g);
      store_param(dt, -s * ((1 << bits) - 1) / 2.0f + 0.01f * u(rng), m.biases.data(), r * groups + g);
    }
  }
  m.w = WeightMatrix{.name = "random", .format = WeightFormat::Affine, .rows = rows, .cols = cols,
                     .data = m.data.data(), .float_dtype = dt, .bits = bits, .group_size = group,
                     .scales = m.scales.data(), .biases = m.biases.data()};
  return m;
}

inline OwnedMatrix random_float(int64_t rows, int64_t cols, DType dt, uint32_t seed) {
  OwnedMatrix m;
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.05f);
  m.data.resize(static_cast<size_t>(rows * cols) * dtype_size(dt));
  for (int64_t i = 0; i < rows * cols; ++i) store_param(dt, n(rng), m.data.data(), i);
  m.w = WeightMatrix{.name = "random", .format = WeightFormat::Float, .rows = rows, .cols = cols,
                     .data = m.data.data(), .float_dtype = dt};
  return m;
}

// Activations like a normed hidden state: N(0, 1) with a few large outliers.
inline std::vector<float> random_acts(int64_t n_rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_rows * cols));
  for (auto& v : x) v = n(rng);
  for (size_t i = 0; i < x.size(); i += 97) x[i] *= 8.0f;
  return x;
}

}  // namespace qlm::testing
