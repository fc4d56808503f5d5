// The AVX2 activation quantizer against the spec written out in scalar C++ (act_quant_avx2.h):
// d = max|x| / 127, q1 = rint(x / d) clamped to ±127, for 8-bit weights q2 = rint(256·(x/d - q1))
// clamped to 127 and stored as 256·q1 + q2; every byte, step and sum must be equal, padding zero.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <vector>

#include "kernels/avx2/act_quant_avx2.h"
#include "kernels/avx2/avx2.h"

namespace qlm {
namespace {

avx2::Int8Acts spec(const std::vector<float>& x, int64_t n_rows, int64_t cols, int group, int bits) {
  avx2::Int8Acts out;
  out.n_rows = n_rows;
  out.groups = cols / group;
  out.row_bytes = bits == 4 ? (cols + 127) / 128 * 128 : (cols + 63) / 64 * 128;
  out.q.assign(static_cast<size_t>(n_rows * out.row_bytes), 0);
  out.d.assign(static_cast<size_t>(n_rows * out.groups), 0.0f);
  out.sum.assign(out.d.size(), 0.0f);
  for (int64_t m = 0; m < n_rows; ++m) {
    int8_t* row = out.q.data() + m * out.row_bytes;
    auto* row16 = reinterpret_cast<int16_t*>(row);
    for (int64_t g = 0; g < out.groups; ++g) {
      const float* xg = &x[m * cols + g * group];
      float mx = 0.0f;
      for (int i = 0; i < group; ++i) mx = std::max(mx, std::fabs(xg[i]));
      const float d = mx / 127.0f;
      out.d[m * out.groups + g] = bits == 8 ? d / 256.0f : d;
      int64_t s = 0;
      for (int i = 0; d != 0.0f && i < group; ++i) {
        const int64_t e = g * group + i;  // element index in the row
        const float f = xg[i] / d;
        const int q1 = std::clamp(static_cast<int>(std::nearbyint(f)), -127, 127);
        if (bits == 8) {
          const int q2 = std::min(static_cast<int>(std::nearbyint((f - static_cast<float>(q1)) * 256.0f)), 127);
          row16[e] = static_cast<int16_t>(256 * q1 + q2);
          s += 256 * q1 + q2;
        } else {
          row[e / 128 * 128 + (e % 2) * 64 + (e % 128) / 2] = static_cast<int8_t>(q1);
          s += q1;
        }
      }
      out.sum[m * out.groups + g] = static_cast<float>(s);
    }
  }
  return out;
}

// Random rows with the hard cases mixed in: an all-zero group, exact ties (x/d = k + 1/2 for a
// group whose max is 127, so d = 1), a group of subnormals, huge and negative values.
std::vector<float> hard_rows(int64_t n_rows, int64_t cols, int group, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_rows * cols));
  for (float& v : x) v = nd(rng);
  const int64_t groups = n_rows * cols / group;
  for (int64_t g = 0; g < groups; ++g) {
    float* xg = &x[g * group];
    switch (g % 6) {
      case 0: std::fill(xg, xg + group, 0.0f); break;
      case 1:
        xg[0] = 127.0f;
        for (int i = 1; i < group; ++i) xg[i] = static_cast<float>(static_cast<int>(rng() % 253) - 126) + 0.5f;
        break;
      case 2:
        for (int i = 0; i < group; ++i) xg[i] *= 1e-40f;
        break;
      case 3:
        for (int i = 0; i < group; ++i) xg[i] *= 1e30f;
        break;
      case 4:  // residual ties for q2: multiples of 1/512 with max 127
        xg[0] = -127.0f;
        for (int i = 1; i < group; ++i) xg[i] = static_cast<float>(static_cast<int>(rng() % 65025) - 32512) / 256.0f + 1.0f / 512.0f;
        break;
      default: break;
    }
  }
  return x;
}

TEST(Avx2ActQuant, EqualsTheScalarSpecBitForBit) {
  if (!avx2::cpu_supported()) GTEST_SKIP() << "this CPU has no AVX2 + FMA + F16C";
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  struct Case {
    int64_t rows, cols;
    int group;
  };
  const Case cases[] = {{1, 896, 64}, {3, 4864, 64}, {9, 896, 128}, {2, 96, 32}, {8, 160, 32}, {5, 192, 64}, {1, 64, 64}};
  uint32_t seed = 1;
  for (int bits : {4, 8}) {
    for (const Case& c : cases) {
      const auto x = hard_rows(c.rows, c.cols, c.group, seed++);
      const auto want = spec(x, c.rows, c.cols, c.group, bits);
      avx2::Int8Acts got;
      got.q.assign(1 << 16, 0x55);  // stale bytes from an earlier, larger call must not survive
      avx2::quantize_acts(x.data(), c.rows, c.cols, c.group, bits, got);
      std::ostringstream what;  // (GCC 12 warns falsely about "q" + std::to_string(...))
      what << "q" << bits << " " << c.rows << "x" << c.cols << " g" << c.group;
      ASSERT_EQ(got.row_bytes, want.row_bytes) << what.str();
      EXPECT_EQ(0, std::memcmp(got.q.data(), want.q.data(), want.q.size())) << what.str() << ": codes differ";
      EXPECT_EQ(0, std::memcmp(got.d.data(), want.d.data(), want.d.size() * sizeof(float))) << what.str() << ": steps differ";
      EXPECT_EQ(0, std::memcmp(got.sum.data(), want.sum.data(), want.sum.size() * sizeof(float))) << what.str() << ": sums differ";
    }
  }
}

}  // namespace
}  // namespace qlm
