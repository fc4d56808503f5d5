// Importance from real activations (--calib): runs the unquantized model over a calibration
// text and records each linear module's input statistics: second moments E[x_c^2] (an
// imatrix-style diagonal) and the Gram matrix X^T X that GPTQ needs, keyed by module path.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace qlm {

struct CalibrationOptions {
  std::string model_dir;   // the float source checkpoint
  std::string text_path;   // calibration text (plain UTF-8)
  int ctx = 256;           // window length
  int max_tokens = 16384;  // tokens of text used at most
  bool progress = true;
};

// Input statistics of one linear module over the calibration tokens.
struct ActivationStats {
  int64_t cols = 0, count = 0;
  std::vector<double> sum_sq;  // [cols] sum of x_c^2
  std::vector<double> gram;    // [cols][cols] sum of x x^T (empty when cols > kMaxGramCols)
  std::vector<float> mean_sq() const;
};

constexpr int64_t kMaxGramCols = 8192;  // beyond this the O(cols^2) Gram and O(cols^3) GPTQ cost too much

// module path -> its input statistics.
std::map<std::string, ActivationStats> collect_activation_stats(const CalibrationOptions& opt);

}  // namespace qlm
