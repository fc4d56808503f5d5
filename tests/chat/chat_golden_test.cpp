// Golden tests: every case in golden/chat_cases.json (written by scripts/chat_goldens.py with
// python3-jinja2 under Hugging Face's settings) must render byte for byte the same in qlm.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "chat/chat_template.h"

namespace qlm {
namespace {

using Json = nlohmann::ordered_json;  // keeps key order, as Python dicts do

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const Json& golden_cases() {
  static const Json cases = [] {
    std::string path = std::string(QLM_CHAT_GOLDEN_DIR) + "/chat_cases.json";
    std::string text = slurp(path);
    if (text.empty()) return Json::array();
    return Json::parse(text)["cases"];
  }();
  return cases;
}

std::vector<size_t> case_indices() {
  std::vector<size_t> out(golden_cases().size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = i;
  return out;
}

class ChatGolden : public ::testing::TestWithParam<size_t> {};

TEST(ChatGoldenFile, HasEnoughCases) {
  ASSERT_GE(golden_cases().size(), 30u)
      << "missing or short " << QLM_CHAT_GOLDEN_DIR << "/chat_cases.json";
}

TEST_P(ChatGolden, MatchesJinja2) {
  const Json& c = golden_cases()[GetParam()];
  std::string source;
  if (c.contains("source")) {
    source = c["source"].get<std::string>();
  } else {
    std::string path = std::string(QLM_SHARED_DATA) + "/" + c["template_file"].get<std::string>();
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared test data absent: " << path;
    std::string text = slurp(path);
    source = c["template_key"].is_null()
                 ? text
                 : Json::parse(text)[c["template_key"].get<std::string>()].get<std::string>();
  }
  ChatTemplate tmpl(source);
  bool gen = c["add_generation_prompt"].get<bool>();
  if (c.contains("expected_error")) {
    try {
      std::string out = tmpl.render(c["messages"], gen, c["tools"], c["extra"]);
      FAIL() << "expected an error, rendered: " << out;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c["expected_error"].get<std::string>()),
                std::string::npos)
          << e.what();
    }
    return;
  }
  EXPECT_EQ(tmpl.render(c["messages"], gen, c["tools"], c["extra"]),
            c["expected"].get<std::string>());
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string name = golden_cases()[info.param]["name"].get<std::string>();
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, ChatGolden, ::testing::ValuesIn(case_indices()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ChatGolden);

}  // namespace
}  // namespace qlm
