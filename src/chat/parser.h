// Turns tokens into the syntax tree, accepting exactly the supported Jinja subset: anything
// else fails with "chat template: unsupported construct '...' at line L".
#pragma once

#include <string>

#include "chat/ast.h"

namespace qlm::chat {

Template parse_template(const std::string& source);

}  // namespace qlm::chat
