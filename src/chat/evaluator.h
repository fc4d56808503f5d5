// Renders a parsed template: statements, expressions, scopes and the global functions
// (raise_exception, namespace, range, dict, strftime_now), within fixed resource limits.
#pragma once

#include <cstddef>
#include <string>

#include "chat/ast.h"
#include "chat/value.h"

namespace qlm::chat {

struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;
  size_t max_loop_iterations = 1'000'000;  // summed over every loop of one render
  int max_macro_depth = 64;
};

// `variables` become the template's top-level names (messages, tools, bos_token, ...).
std::string render_template(const Template& tmpl, const Dict& variables,
                            const RenderLimits& limits = {});

}  // namespace qlm::chat
