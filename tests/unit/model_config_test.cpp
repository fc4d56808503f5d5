// config.json parsing against the real configs in ../shared/data/configs.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/error.h"
#include "io/model_config.h"

namespace qlm {
namespace {

const std::string kData = QLM_SHARED_DATA;

#define SKIP_WITHOUT_DATA()                                                            \
  if (!std::filesystem::exists(kData + "/configs"))                                   \
  GTEST_SKIP() << "shared data not found at " << kData << " (tests needing it skip)"

TEST(ModelConfig, Qwen25Transformers4) {
  SKIP_WITHOUT_DATA();
  ModelConfig c = load_model_config(kData + "/configs/qwen2.5-0.5b-instruct");
  EXPECT_EQ(c.architecture, "Qwen2ForCausalLM");
  EXPECT_EQ(c.hidden_size, 896);
  EXPECT_EQ(c.intermediate_size, 4864);
  EXPECT_EQ(c.num_layers, 24);
  EXPECT_EQ(c.num_heads, 14);
  EXPECT_EQ(c.num_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f);
  EXPECT_EQ(c.dtype, "float32");
  // generation_config.json's list wins over config.json's single id.
  EXPECT_EQ(c.eos_token_ids, (std::vector<int>{151645, 151643}));
  EXPECT_FLOAT_EQ(*c.gen_temperature, 0.7f);
  EXPECT_EQ(*c.gen_top_k, 20);
  EXPECT_FALSE(c.quantization.has_value());
}

TEST(ModelConfig, Qwen25Transformers5Schema) {
  SKIP_WITHOUT_DATA();
  ModelConfig c = load_model_config(kData + "/configs/qwen2.5-1.5b-instruct-transformers5");
  EXPECT_EQ(c.hidden_size, 1536);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);  // from rope_parameters
  EXPECT_EQ(c.dtype, "float16");        // from "dtype"
}

TEST(ModelConfig, Mlx4BitQuantization) {
  SKIP_WITHOUT_DATA();
  ModelConfig c = load_model_config(kData + "/configs/qwen2.5-7b-instruct-mlx-4bit");
  ASSERT_TRUE(c.quantization.has_value());
  EXPECT_EQ(c.quantization->defaults.bits, 4);
  EXPECT_EQ(c.quantization->defaults.group_size, 64);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.vocab_size, 152064);
}

TEST(ModelConfig, TrainedModels) {
  SKIP_WITHOUT_DATA();
  ModelConfig s = load_model_config(kData + "/models/stories260K");
  EXPECT_EQ(s.architecture, "LlamaForCausalLM");
  EXPECT_FALSE(s.attention_bias);
  EXPECT_EQ(s.head_dim, 8);
  EXPECT_EQ(s.eos_token_ids, std::vector<int>{2});
  ModelConfig q = load_model_config(kData + "/models/shakespeare-qwen2");
  EXPECT_EQ(q.num_kv_heads, 2);
  EXPECT_TRUE(q.attention_bias);
}

std::string error_of(const std::string& text) {
  try {
    parse_model_config(text, "cfg.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelConfig, ErrorsNameTheField) {
  const std::string base =
      R"("hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100)";
  EXPECT_NE(error_of("{" + base + "}").find("'architectures'"), std::string::npos);
  EXPECT_NE(error_of(R"({"architectures":["GPT2LMHeadModel"],)" + base + "}").find("not supported"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"architectures":["LlamaForCausalLM"],"hidden_size":"x"})").find("'hidden_size'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"architectures":["LlamaForCausalLM"],"num_key_value_heads":3,)" + base + "}")
                .find("not a multiple"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"architectures":["LlamaForCausalLM"],"rope_scaling":{"rope_type":"yarn"},)" + base + "}")
                .find("yarn"),
            std::string::npos);
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  // A nested object's errors name it; its name was built in a temporary the fuzzer caught being
  // read after it was freed (ASan: heap-use-after-free), so compare the whole message.
  EXPECT_EQ(error_of(R"({"architectures":["LlamaForCausalLM"],"rope_scaling":{"rope_theta":"x"},)" + base + "}"),
            "cfg.json: rope_scaling: field 'rope_theta' must be a number");
  EXPECT_EQ(error_of(R"({"architectures":["LlamaForCausalLM"],"rope_parameters":{"rope_type":7},)" + base + "}"),
            "cfg.json: rope_parameters: field 'rope_type' must be a string");
  EXPECT_EQ(error_of(R"({"architectures":["LlamaForCausalLM"],)" + base + "}"), "");
}

// config.json is untrusted: shape fields are bounded so the sizes computed from them
// (num_heads * head_dim as int, vocab_size * hidden_size) cannot overflow.
TEST(ModelConfig, ShapeFieldsAreBounded) {
  auto config = [](const std::string& field, const std::string& value) {
    std::string j = R"({"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,)"
                    R"("num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100)";
    return j + ",\"" + field + "\":" + value + "}";
  };
  EXPECT_NE(error_of(config("head_dim", "65536")).find("'head_dim' is 65536, expected an integer in [1, 4096]"),
            std::string::npos);
  EXPECT_NE(error_of(config("num_attention_heads", "1000000")).find("'num_attention_heads'"), std::string::npos);
  EXPECT_NE(error_of(config("vocab_size", "2147483647")).find("[1, 4194304]"), std::string::npos);
  EXPECT_NE(error_of(config("hidden_size", "18446744073709551615")).find("'hidden_size' is 18446744073709551615"),
            std::string::npos);
  EXPECT_NE(error_of(config("max_position_embeddings", "100000000")).find("'max_position_embeddings'"),
            std::string::npos);
  EXPECT_EQ(error_of(config("max_position_embeddings", "131072")), "");
}

}  // namespace
}  // namespace qlm
