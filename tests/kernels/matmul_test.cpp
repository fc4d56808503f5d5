// Every matmul kernel on every ISA this machine runs, against the scalar reference (the spec),
// over odd and edge shapes, with the error budget of int8 activation rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/kernel_table.h"
#include "test_isas.h"
#include "random_matrix.h"

namespace qlm {
namespace {

using testing::random_acts;
using testing::random_affine;
using testing::random_float;

double norm(const float* v, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(v[i]) * v[i];
  return std::sqrt(s);
}

// Int8 budget per output, rigorous: per group |x - d·q| ≤ d/2 elementwise with d = max|x_g|/127,
// so ‖e_g‖ ≤ √g·max|x_g|/254 ≤ √g/254·‖x_g‖ and |Σ w·e| ≤ √g/254·‖x‖·‖w_row‖ (Cauchy–Schwarz).
// Typical errors are far smaller: over ≥ 100 outputs the RMS of err / (‖x‖·‖w_row‖) ≤ 2e-3.
// Float weights: only summation order differs: 1e-5·‖x‖·‖w_row‖.
struct Budget {
  double per_element, rms;
};

void expect_close(const WeightMatrix& w, const std::vector<float>& x, int64_t n_rows,
                  const std::vector<float>& got, const std::vector<float>& want, Budget b,
                  const std::string& what) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  std::vector<double> wn(static_cast<size_t>(w.rows));
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    wn[r] = norm(row.data(), w.cols);
  }
  double sq = 0;
  int bad = 0;
  for (int64_t m = 0; m < n_rows; ++m) {
    const double xn = norm(&x[m * w.cols], w.cols);
    for (int64_t r = 0; r < w.rows; ++r) {
      const double scale = xn * wn[r] + 1e-30;
      const double err = std::fabs(double(got[m * w.rows + r]) - want[m * w.rows + r]) / scale;
      sq += err * err;
      if (!(err <= b.per_element) && bad++ < 5)
        ADD_FAILURE() << what << " m=" << m << " r=" << r << " got " << got[m * w.rows + r]
                      << " want " << want[m * w.rows + r] << " rel err " << err;
    }
  }
  const double rms = std::sqrt(sq / double(n_rows * w.rows));
  if (n_rows * w.rows >= 100) {  // RMS needs a sample
    EXPECT_LE(rms, b.rms) << what;
  }
}

// q8 activations carry a second int8 level (act_quant.h): the element error is at most d/256
// (d/512 from the rounding, d/256 where q2 = 128 clamps to 127), so the bound is 127·256 /
// 254 = 128× tighter, √g/32512; RMS ≤ 2e-5 (measured up to 6.6e-6; one level gave ~1e-3).
Budget int8_budget(int group, int bits) {
  if (bits == 8) return {std::sqrt(double(group)) / 32512.0 + 1e-5, 2e-5};
  return {std::sqrt(double(group)) / 254.0 + 1e-5, 2e-3};
}

void check_affine(const KernelTable& k, int64_t rows, int64_t cols, int bits, int group, DType dt,
                  int64_t n_rows, uint32_t seed) {
  auto m = random_affine(rows, cols, bits, group, dt, seed);
  auto x = random_acts(n_rows, cols, seed + 1);
  std::vector<float> bias(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) bias[r] = 0.1f * float(r % 7) - 0.3f;
  std::vector<float> got(static_cast<size_t>(n_rows * rows)), want(got.size());
  k.matmul(m.w, bias.data(), x.data(), n_rows, got.data());
  ref::matmul(m.w, bias.data(), x.data(), n_rows, want.data());
  const std::string what = k.isa + " q" + std::to_string(bits) + " g" + std::to_string(group) + " " +
                           std::to_string(rows) + "x" + std::to_string(cols) + " n=" + std::to_string(n_rows);
  const bool int8 = (bits == 4 || bits == 8);
  expect_close(m.w, x, n_rows, got, want, int8 ? int8_budget(group, bits) : Budget{1e-6, 1e-7}, what);
}

class MatmulIsa : public ::testing::TestWithParam<std::string> {
 protected:
  const KernelTable& table() { return *kernel_table_for(GetParam()); }
};

TEST_P(MatmulIsa, AffineOddShapesEveryFormat) {
  uint32_t seed = 1;
  for (int bits : {4, 8})
    for (int group : {32, 64, 128})
      for (int64_t rows : {1, 3, 15, 17, 63, 65, 127})
        for (int64_t cols : {int64_t(group), int64_t(3 * group), int64_t(896)})
          for (int64_t n : {1, 2, 5, 16, 33}) {
            if (cols % group) continue;
            const DType dt = (seed % 3 == 0) ? DType::F16 : (seed % 3 == 1) ? DType::BF16 : DType::F32;
            check_affine(table(), rows, cols, bits, group, dt, n, seed++);
          }
}

TEST_P(MatmulIsa, AffineModelShapes) {
  for (int bits : {4, 8}) {
    check_affine(table(), 896, 4864, bits, 64, DType::BF16, 1, 11);
    check_affine(table(), 4864, 896, bits, 64, DType::BF16, 2, 12);
    check_affine(table(), 896, 896, bits, 32, DType::F16, 64, 13);
    check_affine(table(), 128, 4864, bits, 128, DType::BF16, 17, 14);
  }
}

TEST_P(MatmulIsa, OtherBitWidthsMatchReferenceExactly) {
  for (int bits : {2, 3, 5, 6}) check_affine(table(), 17, 128, bits, 64, DType::BF16, 3, 40 + bits);
}

TEST_P(MatmulIsa, FloatWeights) {
  uint32_t seed = 100;
  for (DType dt : {DType::F32, DType::F16, DType::BF16})
    for (int64_t rows : {1, 17, 65})
      for (int64_t cols : {1, 15, 64, 100, 896})
        for (int64_t n : {1, 5, 33}) {
          auto m = random_float(rows, cols, dt, seed);
          auto x = random_acts(n, cols, seed++);
          std::vector<float> got(static_cast<size_t>(n * rows)), want(got.size());
          table().matmul(m.w, nullptr, x.data(), n, got.data());
          ref::matmul(m.w, nullptr, x.data(), n, want.data());
          expect_close(m.w, x, n, got, want, {1e-5, 1e-6}, table().isa + " float");
        }
}

INSTANTIATE_TEST_SUITE_P(Isas, MatmulIsa, ::testing::ValuesIn(available_isas()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(MatmulIsa);

}  // namespace
}  // namespace qlm
