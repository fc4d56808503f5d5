// Results must not depend on thread count or batch composition (the rollout scheduler mixes
// sequences freely): each output's float reduction order is fixed, integer sums are exact.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/kernel_table.h"
#include "quant/blocked_params.h"
#include "quant/interleaved_codes.h"
#include "random_matrix.h"
#include "test_isas.h"

namespace qlm {
namespace {

bool same_bits(const float* a, const float* b, int64_t n) {
  return std::memcmp(a, b, n * sizeof(float)) == 0;
}

class Determinism : public ::testing::TestWithParam<std::string> {};

TEST_P(Determinism, RowAloneEqualsRowInBatchAndAnyThreadCount) {
  const KernelTable& k = *kernel_table_for(GetParam());
  // 896 columns, and 5 groups (rows ending in a part-filled 64-byte chunk); 17 rows fill two
  // 8-row GEMM tiles and a 1-row one.
  for (int bits : {4, 8})
    for (int group : {32, 64, 128})
      for (int64_t cols : {int64_t(896), int64_t(5 * group)}) {
        auto m = testing::random_affine(131, cols, bits, group, DType::BF16, 7 + bits + group);
        const int64_t B = 17, R = m.w.rows;
        auto x = testing::random_acts(B, cols, 3);
        std::vector<float> batch(B * R), alone(R), one_thread(B * R);
        const int saved = omp_get_max_threads();
        omp_set_num_threads(2);
        k.matmul(m.w, nullptr, x.data(), B, batch.data());
        for (int64_t i : {int64_t(0), int64_t(9), B - 1}) {
          k.matmul(m.w, nullptr, &x[i * cols], 1, alone.data());
          EXPECT_TRUE(same_bits(alone.data(), &batch[i * R], R))
              << "row " << i << " q" << bits << " g" << group << " cols " << cols;
        }
        omp_set_num_threads(1);
        k.matmul(m.w, nullptr, x.data(), B, one_thread.data());
        omp_set_num_threads(saved);
        EXPECT_TRUE(same_bits(one_thread.data(), batch.data(), B * R))
            << "q" << bits << " g" << group << " cols " << cols;
      }
}

// Float weights: rows of the batch go four at a time where the ISA has a 4-row dot (AVX-512),
// one at a time past the last four; each output must equal the row computed alone. Columns
// with a 64-element tail, a 16-element tail and neither; 11 rows = two quads and three singles.
TEST_P(Determinism, FloatWeightsRowAloneEqualsRowInBatch) {
  const KernelTable& k = *kernel_table_for(GetParam());
  uint32_t seed = 200;
  for (DType dt : {DType::F32, DType::F16, DType::BF16})
    for (int64_t cols : {int64_t(896), int64_t(100), int64_t(7)}) {
      auto m = testing::random_float(19, cols, dt, seed++);
      const int64_t B = 11, R = m.w.rows;
      auto x = testing::random_acts(B, cols, seed++);
      std::vector<float> batch(B * R), alone(R);
      k.matmul(m.w, nullptr, x.data(), B, batch.data());
      for (int64_t i = 0; i < B; ++i) {
        k.matmul(m.w, nullptr, &x[i * cols], 1, alone.data());
        EXPECT_TRUE(same_bits(alone.data(), &batch[i * R], R)) << dtype_name(dt) << " row " << i << " cols " << cols;
      }
    }
}

// Scales and biases regrouped at load time (blocked_params.h) are the same values: every
// output, GEMV and tiles, must be bit-identical with and without them.
TEST_P(Determinism, BlockedParamsChangeNothing) {
  const KernelTable& k = *kernel_table_for(GetParam());
  uint32_t seed = 60;
  for (int bits : {4, 8})
    for (DType dt : {DType::BF16, DType::F16, DType::F32})
      for (int group : {32, 64, 128}) {
        auto m = testing::random_affine(97, 4 * group, bits, group, dt, seed++);
        WeightMatrix blocked = m.w;
        attach_blocked_params(blocked);
        ASSERT_TRUE(blocked.blocked_params != nullptr);
        for (int64_t n : {1, 17, 40}) {
          auto x = testing::random_acts(n, m.w.cols, seed++);
          std::vector<float> plain(n * m.w.rows), fast(n * m.w.rows);
          k.matmul(m.w, nullptr, x.data(), n, plain.data());
          k.matmul(blocked, nullptr, x.data(), n, fast.data());
          EXPECT_TRUE(same_bits(plain.data(), fast.data(), n * m.w.rows))
              << "q" << bits << " g" << group << " " << dtype_name(dt) << " n=" << n;
        }
      }
}

// The codes interleaved at load time (interleaved_codes.h) are the same bytes moved: every
// output must be bit-identical with and without them, for the one-token path, one partial
// tile, the nibbles split in every tile or once per block (more rows than a tile), rows that
// end in a part-filled 64-byte chunk, and a last block of 1 row (97 = 6·16 + 1).
TEST_P(Determinism, InterleavedCodesChangeNothing) {
  const KernelTable& k = *kernel_table_for(GetParam());
  uint32_t seed = 80;
  for (int bits : {4, 8})
    for (int group : {32, 64, 128})
      for (int64_t cols : {int64_t(5 * group), int64_t(896)}) {
        const DType dt = group == 128 ? DType::F16 : DType::BF16;
        auto m = testing::random_affine(97, cols, bits, group, dt, seed++);
        attach_blocked_params(m.w);
        WeightMatrix inter = m.w;
        attach_interleaved_codes(inter);
        ASSERT_TRUE(inter.interleaved_codes != nullptr);
        for (int64_t n : {1, 2, 3, 8, 9, 17, 40}) {
          auto x = testing::random_acts(n, cols, seed++);
          std::vector<float> plain(n * m.w.rows), fast(n * m.w.rows);
          k.matmul(m.w, nullptr, x.data(), n, plain.data());
          k.matmul(inter, nullptr, x.data(), n, fast.data());
          EXPECT_TRUE(same_bits(plain.data(), fast.data(), n * m.w.rows))
              << GetParam() << " q" << bits << " g" << group << " cols " << cols << " n=" << n;
        }
      }
}

// The layout itself, from its definition: word j of row r at ((r / 16)·words + j)·16 + r % 16,
// and the rows that pad the last block repeat the last row.
TEST(InterleavedCodes, WordsSitWhereTheLayoutSays) {
  for (int bits : {4, 8}) {
    auto m = testing::random_affine(35, 160, bits, 32, DType::BF16, 90 + bits);
    attach_interleaved_codes(m.w);
    ASSERT_NE(m.w.interleaved_codes, nullptr);
    EXPECT_EQ(interleaved_codes_bytes(m.w), 48 * m.w.row_bytes());
    const int64_t words = static_cast<int64_t>(m.w.row_bytes() / 4);
    const uint8_t* got = m.w.interleaved_codes.get();
    for (int64_t r = 0; r < 48; ++r)
      for (int64_t j = 0; j < words; ++j) {
        const uint8_t* want = m.w.data + std::min<int64_t>(r, 34) * m.w.row_bytes() + 4 * j;
        ASSERT_EQ(std::memcmp(got + (((r / 16) * words + j) * 16 + r % 16) * 4, want, 4), 0)
            << "q" << bits << " row " << r << " word " << j;
      }
    std::vector<float> a(160), b(160);  // an embedding lookup from the copy, as from the file
    for (int64_t r = 0; r < 35; ++r) {
      dequantize_row(m.w, r, a.data());
      dequantize_interleaved_row(m.w, r, b.data());
      ASSERT_TRUE(same_bits(a.data(), b.data(), 160)) << "q" << bits << " row " << r;
    }
  }
}

// Formats the int8 kernels do not read get no copy (the reference kernel reads the file's).
TEST(InterleavedCodes, OnlyForTheInt8Formats) {
  for (int bits : {2, 3, 6}) {
    auto m = testing::random_affine(32, 128, bits, 64, DType::BF16, 95 + bits);
    attach_interleaved_codes(m.w);
    EXPECT_EQ(m.w.interleaved_codes, nullptr) << bits << " bits";
  }
  auto m = testing::random_affine(32, 128, 4, 64, DType::BF16, 99);
  attach_interleaved_codes(m.w);
  EXPECT_NE(m.w.interleaved_codes, nullptr);
}

// AMX and AVX-512 evaluate the same float expression on the same exact integer sums.
TEST(Determinism, AllInt8IsasAgreeBitForBit) {
  const auto isas = available_isas();
  if (isas.size() < 2) GTEST_SKIP() << "fewer than two optimised ISAs on this machine";
  // Group counts that do and do not fill the AMX kernel's 4-group chunks (14, 76, 38, 28),
  // both bit widths, and token counts that leave a half-empty or single token tile.
  struct Case {
    int64_t rows, cols;
    int bits, group;
    DType dt;
    int64_t n;
  };
  const Case cases[] = {{97, 896, 4, 64, DType::BF16, 40},
                        {97, 896, 8, 64, DType::BF16, 40},
                        {48, 4864, 4, 64, DType::BF16, 33},
                        {48, 4864, 8, 128, DType::F16, 17},
                        {40, 896, 4, 32, DType::F32, 64}};
  uint32_t seed = 5;
  for (const Case& c : cases) {
    auto m = testing::random_affine(c.rows, c.cols, c.bits, c.group, c.dt, seed++);
    auto x = testing::random_acts(c.n, c.cols, seed++);
    std::vector<float> first(c.n * c.rows), other(c.n * c.rows);
    kernel_table_for(isas[0])->matmul(m.w, nullptr, x.data(), c.n, first.data());
    for (size_t i = 1; i < isas.size(); ++i) {
      kernel_table_for(isas[i])->matmul(m.w, nullptr, x.data(), c.n, other.data());
      EXPECT_TRUE(same_bits(first.data(), other.data(), c.n * c.rows))
          << isas[0] << " vs " << isas[i] << " " << c.rows << "x" << c.cols << " q" << c.bits
          << " g" << c.group << " n=" << c.n;
    }
  }
}

TEST(Dispatch, UnknownIsaIsRejectedAndRefAlwaysExists) {
  EXPECT_EQ(kernel_table_for("bogus"), nullptr);
  ASSERT_NE(kernel_table_for("ref"), nullptr);
  EXPECT_EQ(kernel_table_for("ref")->isa, "ref");
  if (__builtin_cpu_supports("avx512vnni")) {
    EXPECT_NE(kernel_table_for("avx512"), nullptr);
  }
}

TEST_P(Determinism, MatmulMultiEqualsSeparateMatmuls) {
  // q/k/v-like shapes (rows not multiples of 16) and a mixed-format set that must fall back.
  const KernelTable& k = *kernel_table_for(GetParam());
  for (int bits : {4, 8}) {
    auto a = testing::random_affine(96, 256, bits, 64, DType::BF16, 11);
    auto b = testing::random_affine(17, 256, bits, 64, DType::BF16, 12);
    auto c =
        testing::random_affine(33, 256, bits == 4 ? 8 : 4, 64, DType::F16, 13);  // other format
    for (int n : {1, 3, 16, 20}) {
      auto x = testing::random_acts(n, 256, 14 + n);
      std::vector<float> bias_a(96, 0.25f);
      for (bool mixed : {false, true}) {
        const WeightMatrix* ws[3] = {&a.w, &b.w, mixed ? &c.w : &b.w};
        const float* bs[3] = {bias_a.data(), nullptr, nullptr};
        std::vector<std::vector<float>> got(3), want(3);
        float* ys[3];
        for (int i = 0; i < 3; ++i) {
          got[i].assign(size_t(n) * ws[i]->rows, 0.0f);
          want[i].assign(got[i].size(), 0.0f);
          ys[i] = got[i].data();
          k.matmul(*ws[i], bs[i], x.data(), n, want[i].data());
        }
        k.matmul_multi(ws, bs, 3, x.data(), n, ys);
        for (int i = 0; i < 3; ++i)
          EXPECT_EQ(got[i], want[i]) << GetParam() << " bits=" << bits << " n=" << n << " matrix "
                                     << i << (mixed ? " (mixed formats)" : "");
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, Determinism, ::testing::ValuesIn(available_isas()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Determinism);

}  // namespace
}  // namespace qlm
