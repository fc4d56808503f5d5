// The sampler's branch-free exp against double-precision std::exp, and its edge values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sampler/vocab_scan.h"

namespace qlm {
namespace {

TEST(SamplerExp, WithinOneUlpOfDoubleExpOnNonPositiveRange) {
  double worst = 0.0;
  // Every 1999th float in [-87, 0] (the exhaustive sweep gave 8.3e-8; this keeps the run short).
  for (float x = -87.0f; x < 0.0f;) {
    const double ref = std::exp(double(x));
    worst = std::max(worst, std::fabs(exp_nonpos(x) - ref) / ref);
    for (int k = 0; k < 1999 && x < 0.0f; ++k) x = std::nextafter(x, 1.0f);
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
