// The sampler's branch-free exp against double-precision std::exp, and its edge values.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "sampler/vocab_scan.h"

namespace qlm {
namespace {

TEST(SamplerExp, WithinOneUlpOfDoubleExpOnNonPositiveRange) {
  double worst = 0.0;
  // Every 1999th float in [-87, -0] by bit pattern (the exhaustive sweep gave 8.3e-8).
  for (uint32_t bits = 0x80000000u; bits <= 0xC2AE0000u; bits += 1999) {
    const float x = std::bit_cast<float>(bits);
    const double ref = std::exp(double(x));
    worst = std::max(worst, std::fabs(exp_nonpos(x) - ref) / ref);
  }
  EXPECT_LT(worst, 1.2e-7);
  EXPECT_EQ(exp_nonpos(0.0f), 1.0f);
  EXPECT_EQ(exp_nonpos(-0.0f), 1.0f);
  EXPECT_EQ(exp_nonpos(-87.5f), 0.0f);
  EXPECT_EQ(exp_nonpos(-std::numeric_limits<float>::infinity()), 0.0f);
}

TEST(SamplerExp, KeepAtLeast) {
  EXPECT_EQ(keep_at_least(0.5f, 0.5f), 0.5f);
  EXPECT_EQ(keep_at_least(0.49f, 0.5f), 0.0f);
  EXPECT_EQ(keep_at_least(0.3f, 0.0f), 0.3f);
  EXPECT_EQ(keep_at_least(0.0f, 0.0f), 0.0f);
}

}  // namespace
}  // namespace qlm
