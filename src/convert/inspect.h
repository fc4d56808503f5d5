// qlm inspect: what a model folder really holds (architecture, format, bits per weight, size
// against the size the config implies) and a verdict from checks: every module the config
// says is quantized is, scales/biases are finite, shapes agree, nothing is missing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace qlm {

struct InspectOptions {
  bool per_tensor = false;
  bool scan_values = true;  // read every scale/bias (and float weight) to check finiteness
};

// Returns the report as JSON (the text view is rendered from it). Never throws for a bad
// model: problems become failed checks; throws Error only when the folder is unreadable.
nlohmann::ordered_json inspect_model(const std::string& dir, const InspectOptions& opt);

// Human-readable rendering of inspect_model's report.
std::string render_inspect_text(const nlohmann::ordered_json& report);

}  // namespace qlm
