// Interpreter tests beyond the goldens: unsupported constructs and template errors must throw
// qlm::Error naming the construct and line; limits hold; template discovery in model folders.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/error.h"
#include "chat/chat_template.h"

namespace qlm {
namespace {

using Json = nlohmann::ordered_json;

std::string render(const std::string& source, const Json& extra = Json::object()) {
  return ChatTemplate(source).render(Json::array(), false, nullptr, extra);
}

// Runs `fn` and returns the qlm::Error message, or "" if nothing was thrown.
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string parse_error(const std::string& source) {
  return error_of([&] { ChatTemplate t(source); });
}

std::string render_error(const std::string& source, const Json& extra = Json::object()) {
  return error_of([&] { render(source, extra); });
}

TEST(ChatJinja, UnsupportedStatementsFailAtParseWithLine) {
  EXPECT_EQ(parse_error("hello\n{% include 'other.jinja' %}"),
            "chat template: unsupported construct 'include' at line 2");
  EXPECT_EQ(parse_error("{% extends 'base' %}"),
            "chat template: unsupported construct 'extends' at line 1");
  for (const char* src : {"{% block b %}{% endblock %}", "{% import 'x' as y %}",
                          "{% from 'x' import y %}", "{% call f() %}{% endcall %}",
                          "{% filter upper %}x{% endfilter %}", "{% with a = 1 %}{% endwith %}",
                          "{% do x %}", "{% autoescape true %}{% endautoescape %}"}) {
    EXPECT_NE(parse_error(src).find("unsupported construct"), std::string::npos) << src;
  }
}

TEST(ChatJinja, UnknownFiltersAndTestsFailAtParse) {
  EXPECT_EQ(parse_error("{{ x }}\n\n{{ x | frobnicate }}"),
            "chat template: unsupported construct 'filter frobnicate' at line 3");
  EXPECT_EQ(parse_error("{% if x is prime %}{% endif %}"),
            "chat template: unsupported construct 'test prime' at line 1");
  EXPECT_NE(parse_error("{% for x in xs recursive %}{% endfor %}")
                .find("unsupported construct 'recursive for loop'"),
            std::string::npos);
  EXPECT_NE(parse_error("{{ f(*args) }}").find("unsupported construct"), std::string::npos);
  EXPECT_EQ(parse_error("{{ '%s' % x }}"), "");  // parses; % on strings fails at render instead
}

TEST(ChatJinja, SyntaxErrors) {
  EXPECT_NE(parse_error("{% if x %}never closed").find("unexpected end of template"),
            std::string::npos);
  EXPECT_NE(parse_error("{{ x ").find("unexpected end of template"), std::string::npos);
  EXPECT_NE(parse_error("{# open comment").find("missing end of comment"), std::string::npos);
  EXPECT_NE(parse_error("{% endfor %}").find("unexpected '{% endfor %}'"), std::string::npos);
  EXPECT_NE(parse_error("{% break %}").find("outside of a loop"), std::string::npos);
  EXPECT_NE(parse_error("{{ (1 }}").find("expected ')'"), std::string::npos);
  EXPECT_NE(parse_error("{{ 'abc }}").find("unterminated string"), std::string::npos);
}

TEST(ChatJinja, RaiseExceptionPropagatesItsMessage) {
  std::string msg = render_error(
      "line one\n{{ raise_exception('Only user and assistant roles are supported!') }}");
  EXPECT_EQ(
      msg,
      "chat template: raise_exception: Only user and assistant roles are supported! at line 2");
}

TEST(ChatJinja, RuntimeErrorsNameTheProblem) {
  EXPECT_NE(render_error("{{ x.y.z }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(render_error("{{ d.a.b }}", Json{{"d", Json::object()}}).find("has no attribute 'a'"),
            std::string::npos);
  EXPECT_NE(render_error("{{ 'a' + 1 }}").find("can only concatenate str"), std::string::npos);
  EXPECT_NE(render_error("{{ none + 'a' }}")
                .find("unsupported operand type(s) for +: 'NoneType' and 'str'"),
            std::string::npos);
  EXPECT_NE(render_error("{{ 1 // 0 }}").find("by zero"), std::string::npos);
  EXPECT_NE(render_error("{{ 1 < 'a' }}").find("not supported"), std::string::npos);
  EXPECT_NE(
      render_error("{{ '%x' % 1 }}").find("unsupported construct 'string % formatting with '%x''"),
      std::string::npos);
  EXPECT_NE(render_error("{{ 'x' % 1 }}").find("not all arguments converted"), std::string::npos);
  EXPECT_NE(
      render_error("{{ d[1:] }}", Json{{"d", Json::object()}}).find("unhashable type: 'slice'"),
      std::string::npos);
  EXPECT_NE(render_error("{{ [1] in {} }}").find("unhashable type: 'list'"), std::string::npos);
  EXPECT_NE(render_error("{{ x | tojson }}").find("not JSON serializable"), std::string::npos);
  EXPECT_NE(render_error("{{ 'abc'.format(1) }}").find("'str object' has no attribute 'format'"),
            std::string::npos);
  EXPECT_NE(render_error("{% for x in none %}{% endfor %}").find("not iterable"),
            std::string::npos);
  EXPECT_NE(render_error("{% set x = 1 %}{% set x.a = 2 %}").find("namespace"), std::string::npos);
  EXPECT_NE(render_error("{{ 'x' | tojson(true) }}").find("ensure_ascii"), std::string::npos);
  // Python maps these to several code points (SS, final sigma); refuse rather than differ.
  EXPECT_NE(render_error("{{ 'straße'.upper() }}")
                .find("unsupported construct 'upper/title case of U+df'"),
            std::string::npos);
  EXPECT_NE(render_error("{{ 'ΣΑΣ' | lower }}").find("unsupported construct 'lower case of U+3a3'"),
            std::string::npos);
}

TEST(ChatJinja, ResourceLimits) {
  EXPECT_NE(
      render_error("{% for i in range(1001) %}{% for j in range(1000) %}{% endfor %}{% endfor %}")
          .find("more than 1000000 loop iterations"),
      std::string::npos);
  EXPECT_NE(render_error("{% set s = 'x' * 1000000 %}{% for i in range(100) %}{{ s }}{% endfor %}")
                .find("output exceeds the limit"),
            std::string::npos);
  EXPECT_NE(render_error("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}").find("recursion"),
            std::string::npos);
  EXPECT_NE(render_error("{{ range(2000000) }}").find("range()"), std::string::npos);
  EXPECT_NE(render_error("{% set ns = namespace(s='x') %}{% for i in range(40) %}"
                         "{% set ns.s = ns.s ~ ns.s %}{% endfor %}")
                .find("string longer than the limit"),
            std::string::npos);
  EXPECT_NE(render_error("{{ ['x' * 1000000] * 1000 }}").find("repetition too large"),
            std::string::npos);
  // Captured output counts too: a macro's text re-emitted by its caller.
  EXPECT_NE(render_error("{% macro big() %}{{ 'x' * 40000000 }}{% endmacro %}{{ big() }}")
                .find("output exceeds the limit"),
            std::string::npos);
  Json deep = Json::array();
  for (int i = 0; i < 1000; ++i) deep = Json::array({deep});
  EXPECT_NE(render_error("{{ x }}", Json{{"x", deep}}).find("nested deeper"), std::string::npos);
  EXPECT_NE(parse_error("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}")
                .find("nesting deeper"),
            std::string::npos);
  std::string deep_ifs;
  for (int i = 0; i < 1000; ++i) deep_ifs += "{% if true %}";
  EXPECT_NE(parse_error(deep_ifs).find("nesting deeper"), std::string::npos);
}

// Found by fuzz_chat_template (fuzz/regressions/chat_template/float-literal-out-of-range): std::stod
// threw std::out_of_range past the error handling. Expected text from python3-jinja2 3.1.2.
TEST(ChatJinja, FloatLiteralsOutOfRangeAreInfOrZero) {
  EXPECT_EQ(render("{{ 1e309 }}|{{ 1e-400 }}|{{ -1e309 }}|{{ 1e309 > 10 }}|{{ [1e309] }}"), "inf|0.0|-inf|True|[inf]");
}

// Found by fuzz_chat_template (fuzz/regressions/chat_template/int-overflow): int64 arithmetic
// overflowed (undefined behaviour) where Python has big integers. Results that fit match
// python3-jinja2 3.1.2; ones that do not are an error, never a wrapped value or a long loop.
TEST(ChatJinja, IntegerArithmeticNeverOverflows) {
  EXPECT_EQ(render("{{ 2 ** 62 }}|{{ 1 ** 4611686018427387904 }}|{{ (-2) ** 63 }}|{{ [1,2,3][::9223372036854775807] }}|"
                   "{{ [1,2,3][::-9223372036854775807] }}|{{ (-9223372036854775807 - 1) % -1 }}|"
                   "{{ [4611686018427387904, 4611686018427387903] | sum }}|{{ -7 // 2 }}"),
            "4611686018427387904|1|-9223372036854775808|[1]|[3]|0|9223372036854775807|-4");
  for (const char* overflow : {"{{ 4611686018427387904 * 2 }}", "{{ 9223372036854775807 + 1 }}", "{{ 2 ** 63 }}",
                               "{{ -(-9223372036854775807 - 1) }}", "{{ (-9223372036854775807 - 1) // -1 }}",
                               "{{ (-9223372036854775807 - 1) | abs }}", "{{ [9223372036854775807, 1] | sum }}",
                               "{{ -9223372036854775807 - 2 }}"})
    EXPECT_NE(render_error(overflow).find("does not fit in 64 bits"), std::string::npos) << overflow;
}

// Found by fuzz_chat_template (fuzz/regressions/chat_template/format-width): '%0006787910242759s'
// asked for a 6.7-petabyte string. Widths and precisions are bounded like every string.
TEST(ChatJinja, PercentFormatWidthIsBounded) {
  EXPECT_EQ(render("{{ '%05d|%-4s|%.2f|%3.1s' % (-42, 'ab', 3.14159, 'xyz') }}"), "-0042|ab  |3.14|  x");  // python3
  EXPECT_NE(render_error("{{ '%0006787910242759s' % 2 }}").find("format width or precision"), std::string::npos);
  EXPECT_NE(render_error("{{ '%.99999999999f' % 2 }}").find("format width or precision"), std::string::npos);
  EXPECT_NE(render_error("{{ '%d' % 1e300 }}").find("out of range"), std::string::npos);
}

TEST(ChatJinja, SortedJsonOverloadAndVariables) {
  ChatTemplate t(
      "{% for m in messages %}{{ m | tojson }}{% endfor %}{{ bos_token }}{{ add_generation_prompt "
      "}}{{ tools is none }}");
  nlohmann::json messages = nlohmann::json::array({{{"role", "user"}, {"content", "hé"}}});
  // nlohmann::json keeps keys sorted, so content comes before role.
  EXPECT_EQ(t.render(messages, true, nullptr, {{"bos_token", "<s>"}}),
            "{\"content\": \"hé\", \"role\": \"user\"}<s>TrueTrue");
  Json ordered = Json::array({{{"role", "user"}, {"content", "hé"}}});
  EXPECT_EQ(t.render(ordered, false), "{\"role\": \"user\", \"content\": \"hé\"}FalseTrue");
  EXPECT_NE(error_of([&] {
              t.render(nlohmann::json::object(), false);
            }).find("messages must be a JSON array"),
            std::string::npos);
}

TEST(ChatJinja, HuggingFaceGenerationBlockRendersItsBody) {
  // transformers' AssistantTracker extension only marks spans; the text is unchanged.
  EXPECT_EQ(render("a{% generation %}b{{ 1 + 1 }}{% endgeneration %}c"), "ab2c");
  EXPECT_NE(parse_error("{% generation %}x").find("unexpected end of template"), std::string::npos);
}

TEST(ChatJinja, ParsedOnceRenderedManyTimes) {
  ChatTemplate t(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ "
      "ns.n }}");
  Json two = Json::array({{{"role", "user"}}, {{"role", "assistant"}}});
  EXPECT_EQ(t.render(two, false), "2");
  EXPECT_EQ(t.render(two, false), "2");  // namespaces are per render, not shared through the AST
}

TEST(ChatJinja, LongConversationRendersQuickly) {
  std::string shared = QLM_SHARED_DATA;
  std::optional<std::string> source = load_chat_template(shared + "/tokenizers/qwen3");
  if (!source) GTEST_SKIP() << "shared test data absent: " << shared;
  Json messages = Json::array();
  for (int i = 0; i < 4000; ++i)
    messages.push_back({{"role", i % 2 ? "assistant" : "user"},
                        {"content", "message number " + std::to_string(i)}});
  std::string out = ChatTemplate(*source).render(messages, true);
  EXPECT_NE(out.find("message number 3999<|im_end|>\n<|im_start|>assistant\n"), std::string::npos);
}

TEST(ChatJinja, ThreadsShareOneTemplate) {
  ChatTemplate t(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
      "{{ m.content | upper }}{% endfor %}{{ ns.n }}{{ messages | tojson }}");
  Json messages = Json::array();
  for (int i = 0; i < 50; ++i)
    messages.push_back({{"role", "user"}, {"content", "m" + std::to_string(i)}});
  const std::string expected = t.render(messages, false);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i)
        if (t.render(messages, false) != expected) ++mismatches;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() / ("qlm_chat_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(ChatTemplateLoad, FindsTheTemplateInAModelFolder) {
  TempDir dir;
  EXPECT_FALSE(load_chat_template(dir.str()).has_value());
  dir.write("tokenizer_config.json", R"({"eos_token": "x"})");
  EXPECT_FALSE(load_chat_template(dir.str()).has_value());
  dir.write("tokenizer_config.json", R"({"chat_template": "from config"})");
  EXPECT_EQ(load_chat_template(dir.str()).value(), "from config");
  dir.write(
      "tokenizer_config.json",
      R"({"chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "dflt"}]})");
  EXPECT_EQ(load_chat_template(dir.str()).value(), "dflt");
  dir.write("tokenizer_config.json",
            R"({"chat_template": [{"name": "tool_use", "template": "tools"}]})");
  EXPECT_NE(error_of([&] { load_chat_template(dir.str()); }).find("without a \"default\" entry"),
            std::string::npos);
  dir.write("tokenizer_config.json", "{not json");
  EXPECT_NE(error_of([&] { load_chat_template(dir.str()); }).find("invalid JSON"),
            std::string::npos);
  // As in transformers, a chat_template.jinja file overrides the config's template.
  dir.write("chat_template.jinja", "from jinja file");
  EXPECT_EQ(load_chat_template(dir.str()).value(), "from jinja file");
}

TEST(ChatTemplateLoad, SpecialTokenVariables) {
  TempDir dir;
  EXPECT_EQ(load_special_token_variables(dir.str()), Json::object());
  dir.write("tokenizer_config.json",
            R"({"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": false},
                "pad_token": null, "additional_special_tokens": ["<a>", {"content": "<b>"}]})");
  EXPECT_EQ(load_special_token_variables(dir.str()).dump(),
            R"({"bos_token":"<s>","eos_token":"</s>","additional_special_tokens":["<a>","<b>"]})");
  dir.write("special_tokens_map.json", R"({"eos_token": "<eos>"})");
  EXPECT_EQ(load_special_token_variables(dir.str())["eos_token"], "<eos>");
  std::string shared = QLM_SHARED_DATA;
  if (!std::filesystem::exists(shared + "/tokenizers/llama3/tokenizer_config.json"))
    GTEST_SKIP() << "shared test data absent: " << shared;
  Json llama3 = load_special_token_variables(shared + "/tokenizers/llama3");
  EXPECT_EQ(llama3["bos_token"], "<|begin_of_text|>");
  // The Llama-3 template reads bos_token; rendering with the loaded variables starts with it.
  ChatTemplate t(*load_chat_template(shared + "/tokenizers/llama3"));
  Json messages = Json::array({{{"role", "user"}, {"content", "hi"}}});
  EXPECT_EQ(t.render(messages, true, nullptr, llama3)
                .rfind("<|begin_of_text|><|start_header_id|>user", 0),
            0u);
  Json qwen = load_special_token_variables(shared + "/tokenizers/qwen2.5");
  EXPECT_EQ(qwen["eos_token"], "<|im_end|>");
  EXPECT_FALSE(qwen.contains("bos_token"));
}

TEST(ChatTemplateLoad, SharedDataFolders) {
  std::string shared = QLM_SHARED_DATA;
  if (!std::filesystem::exists(shared + "/tokenizers/qwen2.5/tokenizer_config.json"))
    GTEST_SKIP() << "shared test data absent: " << shared;
  for (const char* dir :
       {"/tokenizers/qwen2.5", "/tokenizers/qwen3", "/tokenizers/llama3",
        "/configs/qwen2.5-1.5b-instruct-transformers5", "/configs/qwen2.5-7b-instruct-mlx-4bit"}) {
    std::optional<std::string> source = load_chat_template(shared + dir);
    ASSERT_TRUE(source.has_value()) << dir;
    ChatTemplate t(*source);  // every real template parses
  }
  EXPECT_FALSE(load_chat_template(shared + "/configs/qwen2.5-0.5b-instruct").has_value());
}

}  // namespace
}  // namespace qlm
