// Interpreter unit tests: small templates with outputs checked against python jinja2 by hand,
// and the error cases (unsupported constructs, raise_exception, limits).
#include <gtest/gtest.h>

#include "base/error.h"
#include "chat/chat_template.h"

namespace qlm {
namespace {

std::string render(const std::string& source, const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) {
  return ChatTemplate(source).render(nlohmann::ordered_json::array(), false, nullptr, extra);
}

TEST(ChatJinja, Smoke) {
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = x + 10 %}{{ x }};{% endfor %}{{ x }}"), "111;111;1");
}

}  // namespace
}  // namespace qlm
