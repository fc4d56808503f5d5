// Jinja's compile-time name resolution (jinja2/idtracking.py): for each scope (template, loop
// body, loop else, macro, set block) the names that start out undefined in that scope.
#pragma once

#include <string>
#include <vector>

#include "chat/ast.h"

namespace qlm::chat {

// Fills Stmt::body_undefined / else_undefined of nested scopes and returns the template
// scope's list. A name assigned in a scope that neither it (earlier) nor an enclosing scope
// references is undefined there until assigned, even if the render context defines it.
std::vector<std::string> resolve_scopes(Body& body);

}  // namespace qlm::chat
