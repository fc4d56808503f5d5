// GPTQ for MLX affine groups.
#include "quant/gptq.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"
#include "quant/affine.h"

namespace qlm {

namespace {

// In-place lower Cholesky factor of a symmetric positive-definite n x n matrix (row-major).
bool cholesky_lower(std::vector<double>& a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int64_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (int64_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
    for (int64_t k = j + 1; k < n; ++k) a[j * n + k] = 0.0;
  }
  return true;
}

// U, upper triangular with H^-1 = U^T U (GPTQ's "Cholesky of the inverse, upper").
std::vector<double> inverse_cholesky_upper(std::vector<double> h, int64_t n) {
  if (!cholesky_lower(h, n)) fail("GPTQ: the calibration Gram matrix is not positive definite");
  // L^-1 by forward substitution; H^-1 = L^-T L^-1.
  std::vector<double> linv(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    linv[i * n + i] = 1.0 / h[i * n + i];
    for (int64_t j = 0; j < i; ++j) {
      double s = 0;
      for (int64_t k = j; k < i; ++k) s += h[i * n + k] * linv[k * n + j];
      linv[i * n + j] = -s / h[i * n + i];
    }
  }
  std::vector<double> hinv(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double s = 0;
      for (int64_t k = i; k < n; ++k) s += linv[k * n + i] * linv[k * n + j];
      hinv[i * n + j] = hinv[j * n + i] = s;
    }
  if (!cholesky_lower(hinv, n)) fail("GPTQ: the inverse Gram matrix is not positive definite");
  std::vector<double> u(static_cast<size_t>(n * n), 0.0);  // U = L^T of H^-1's Cholesky
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) u[j * n + i] = hinv[i * n + j];
  return u;
}

}  // namespace

GptqFactor make_gptq_factor(const std::vector<double>& gram, int64_t cols) {
  QLM_CHECK(static_cast<int64_t>(gram.size()) == cols * cols);
  GptqFactor f;
  f.cols = cols;
  std::vector<double> h = gram;
  double mean_diag = 0;
  for (int64_t c = 0; c < cols; ++c) mean_diag += h[c * cols + c];
  mean_diag /= static_cast<double>(cols);
  if (!(mean_diag > 0)) mean_diag = 1.0;
  f.diag.resize(static_cast<size_t>(cols));
  f.dead.assign(static_cast<size_t>(cols), 0);
  for (int64_t c = 0; c < cols; ++c) {
    if (h[c * cols + c] <= 0) {  // a dead input channel: its weights never matter
      h[c * cols + c] = 1.0;
      f.dead[c] = 1;
    }
    f.diag[c] = static_cast<float>(h[c * cols + c]);
    h[c * cols + c] += 0.01 * mean_diag;  // dampening, as GPTQ
  }
  f.u = inverse_cholesky_upper(std::move(h), cols);
  return f;
}

void gptq_quantize_rows(float* w, int64_t rows, int64_t cols, const GptqFactor& f,
                        const QuantizeOptions& opt, uint8_t* packed, uint8_t* scales, uint8_t* biases) {
  const int g = opt.spec.group_size, bits = opt.spec.bits;
  QLM_CHECK(cols % g == 0 && f.cols == cols && g <= 256);
  const std::vector<double>& u = f.u;
  const std::vector<float>& diag = f.diag;
  const int64_t groups = cols / g;
  const size_t row_bytes = static_cast<size_t>(cols) * bits / 8;
  const float levels = static_cast<float>((1 << bits) - 1);

#pragma omp parallel
  {
    std::vector<uint8_t> codes(static_cast<size_t>(cols));
    std::vector<double> row(static_cast<size_t>(cols));
#pragma omp for schedule(dynamic, 4)
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) row[c] = f.dead[c] ? 0.0 : w[r * cols + c];
      float s = 0, b = 0;
      for (int64_t c = 0; c < cols; ++c) {
        if (c % g == 0) {  // choose this group's parameters on the updated weights
          float grp[256];
          for (int i = 0; i < g; ++i) grp[i] = static_cast<float>(row[c + i]);
          QuantizeOptions one = opt;
          one.method = QuantMethod::Search;
          one.thorough = true;
          one.importance = diag.data() + c;
          uint8_t tmp_packed[256];
          uint8_t sb[2][4];
          quantize_rows(grp, 1, g, one, tmp_packed, sb[0], sb[1]);
          s = round_to_dtype(load_scalar_any(opt.scale_dtype, sb[0]), opt.scale_dtype);
          b = round_to_dtype(load_scalar_any(opt.scale_dtype, sb[1]), opt.scale_dtype);
          store_scalar(opt.scale_dtype, s, scales, r * groups + c / g);
          store_scalar(opt.scale_dtype, b, biases, r * groups + c / g);
        }
        const float x = static_cast<float>(row[c]);
        float q = s != 0.0f ? std::rint((x - b) / s) : 0.0f;
        q = std::min(std::max(q, 0.0f), levels);
        codes[c] = static_cast<uint8_t>(q);
        const double err = (row[c] - (static_cast<double>(s) * q + b)) / u[c * cols + c];
        for (int64_t k = c + 1; k < cols; ++k) row[k] -= err * u[c * cols + k];
      }
      pack_affine_codes(codes.data(), cols, bits, packed + r * row_bytes);
    }
  }
}

}  // namespace qlm
