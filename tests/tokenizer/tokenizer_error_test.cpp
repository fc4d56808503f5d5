// Bad input must fail with a qlm::Error naming the problem: missing files, unsupported
// models, malformed JSON, invalid UTF-8, out-of-range ids.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "golden_corpus.h"

namespace qlm::test {
namespace {

namespace fs = std::filesystem;

// A scratch folder holding one tokenizer.json, removed afterwards.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::string& name)
      : path_(fs::temp_directory_path() / ("qlm_tok_" + name + "_" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~ScratchFolder() { fs::remove_all(path_); }
  void write(const std::string& file, const std::string& text) const {
    std::ofstream(path_ / file) << text;
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

// Runs f, expects qlm::Error, and returns its message.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no qlm::Error thrown";
  return {};
}

TEST(TokenizerErrors, MissingFolder) {
  const std::string msg = error_of([] { Tokenizer::load("/nonexistent/qlm/tokenizer"); });
  EXPECT_NE(msg.find("/nonexistent/qlm/tokenizer"), std::string::npos) << msg;
}

TEST(TokenizerErrors, FolderWithoutTokenizerFiles) {
  ScratchFolder dir("empty");
  const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << msg;
}

TEST(TokenizerErrors, VocabWithoutMerges) {
  ScratchFolder dir("nomerges");
  dir.write("vocab.json", R"({"a": 0})");
  const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(msg.find("merges.txt"), std::string::npos) << msg;
}

TEST(TokenizerErrors, UnsupportedModelTypes) {
  for (const std::string type : {"Unigram", "WordPiece", "WordLevel"}) {
    ScratchFolder dir("model_" + type);
    dir.write("tokenizer.json", R"({"model": {"type": ")" + type + R"(", "vocab": []}})");
    const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
    EXPECT_NE(msg.find(type), std::string::npos) << msg;
    EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << msg;
  }
}

TEST(TokenizerErrors, UnsupportedNormalizer) {
  ScratchFolder dir("normalizer");
  dir.write("tokenizer.json", R"({"normalizer": {"type": "BertNormalizer"},
    "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})");
  const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(msg.find("BertNormalizer"), std::string::npos) << msg;
}

TEST(TokenizerErrors, MalformedJson) {
  ScratchFolder dir("badjson");
  dir.write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0,)");
  const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << msg;
}

TEST(TokenizerErrors, MergeOfUnknownToken) {
  ScratchFolder dir("badmerge");
  dir.write("tokenizer.json",
            R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}})");
  const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(msg.find("a b"), std::string::npos) << msg;
}

TEST(TokenizerErrors, MalformedVocabAndMerges) {
  ScratchFolder dir("badvocab");
  dir.write("vocab.json", R"({"a": "zero"})");
  dir.write("merges.txt", "#version: 0.2\n");
  std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(msg.find("vocab.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not an integer"), std::string::npos) << msg;

  ScratchFolder dir2("badmergeline");
  dir2.write("tokenizer.json",
             R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b c"]}})");
  msg = error_of([&] { Tokenizer::load(dir2.path()); });
  EXPECT_NE(msg.find("\"a b c\" is not two tokens"), std::string::npos) << msg;

  ScratchFolder dir3("badvocabid");
  dir3.write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0.5}, "merges": []}})");
  msg = error_of([&] { Tokenizer::load(dir3.path()); });
  EXPECT_NE(msg.find("id of \"a\" is not an integer"), std::string::npos) << msg;
}

// A minimal valid tokenizer for input checks that need no shared data.
class TinyTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("tokenizer.json",
               R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3},
      "merges": ["a b"], "unk_token": null}})");
    tok_ = Tokenizer::load(dir_.path());
  }
  ScratchFolder dir_{"tiny"};
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(TinyTokenizer, EncodesWithMerges) {
  EXPECT_EQ(tok_->encode("abc"), (std::vector<int>{3, 2}));
  EXPECT_EQ(tok_->decode(std::vector<int>{3, 2}), "abc");
}

TEST_F(TinyTokenizer, InvalidUtf8NamesTheByte) {
  const struct {
    std::string text;
    size_t byte;
  } cases[] = {
      {"ab\xFF"
       "cd",
       2},                         // never valid
      {"abc\xE4\xB8", 3},          // truncated 3-byte character
      {"a\xED\xA0\x80", 1},        // UTF-16 surrogate
      {"\xC0\xAF", 0},             // overlong '/'
      {"ok \xF4\x90\x80\x80", 3},  // above U+10FFFF
      {"x\x80", 1},                // stray continuation byte
  };
  for (const auto& c : cases) {
    const std::string msg = error_of([&] { tok_->encode(c.text); });
    EXPECT_EQ(msg, "prompt is not valid UTF-8 at byte " + std::to_string(c.byte));
  }
}

TEST_F(TinyTokenizer, IdsWithoutTokenDecodeToNothing) {
  EXPECT_EQ(tok_->decode(std::vector<int>{0, 99, -1, 1}), "ab");
  StreamDecoder stream(*tok_);
  EXPECT_EQ(stream.push(-1), "");
  EXPECT_EQ(stream.push(4), "");
  EXPECT_EQ(stream.push(2), "c");
  const std::string msg = error_of([&] { tok_->piece(4); });
  EXPECT_NE(msg.find("token id 4"), std::string::npos) << msg;
}

// Ids come from the file: a negative one or one past kMaxVocabSize is refused with a message,
// never used as an index or an allocation size.
TEST(TokenizerErrors, IdsOutsideTheVocabularyLimit) {
  for (const char* id : {"-1", "4194304", "2147483647", "1e3"}) {
    ScratchFolder dir(std::string("badid") + (id[0] == '-' ? "neg" : "big"));
    dir.write("tokenizer.json", std::string(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": )") + id +
                                    R"(}, "merges": []}})");
    const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
    EXPECT_NE(msg.find("\"b\""), std::string::npos) << msg;
  }
  ScratchFolder added("badadded");
  added.write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
    "added_tokens": [{"id": 99999999, "content": "<x>"}]})");
  EXPECT_NE(error_of([&] { Tokenizer::load(added.path()); }).find("<x>"), std::string::npos);
  ScratchFolder slow("badslow");
  slow.write("vocab.json", R"({"a": 0, "b": -5})");
  slow.write("merges.txt", "#version: 0.2\n");
  EXPECT_NE(error_of([&] { Tokenizer::load(slow.path()); }).find("-5"), std::string::npos);
  ScratchFolder decoder("baddecoder");
  decoder.write("vocab.json", R"({"a": 0})");
  decoder.write("merges.txt", "");
  decoder.write("tokenizer_config.json", R"({"added_tokens_decoder": {"99999999999": {"content": "<y>"}}})");
  EXPECT_NE(error_of([&] { Tokenizer::load(decoder.path()); }).find("tokenizer_config.json"), std::string::npos);
}

// nlohmann's parse callback rescans an object's parent at every nested object's end, so a
// tokenizer.json or vocab.json with many small objects once took quadratic time (300k objects:
// minutes). Found while bounding the safetensors tensor count; the loaders now parse in one pass.
TEST(TokenizerErrors, ManySmallObjectsParseInLinearTime) {
  std::string objects = "[";
  for (int i = 0; i < 300000; ++i) objects += i ? ",{}" : "{}";
  objects += "]";
  ScratchFolder dir("manyobjects");
  dir.write("tokenizer.json", R"({"padding": )" + objects +
                                  R"(, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}})");
  const auto start = std::chrono::steady_clock::now();
  const auto tok = Tokenizer::load(dir.path());
  EXPECT_EQ(tok->encode("ab"), std::vector<int>{2});
  ScratchFolder slow("manyobjects_vocab");
  std::string vocab = "{";
  for (int i = 0; i < 300000; ++i) vocab += (i ? ",\"t" : "\"t") + std::to_string(i) + "\": {}";
  slow.write("vocab.json", vocab + "}");
  slow.write("merges.txt", "");
  EXPECT_NE(error_of([&] { Tokenizer::load(slow.path()); }).find("is not an integer"), std::string::npos);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 20.0);
}

// Found by fuzz_tokenizer_json (fuzz/regressions/tokenizer_json/strip-start-float): a Strip
// decoder's "start" of 1.18e20 was converted to int (undefined behaviour).
TEST(TokenizerErrors, StripDecoderCountsAreCheckedIntegers) {
  for (const char* start : {"1.18447e+20", "18446744073709551615", "-1", "\"1\""}) {
    ScratchFolder dir("strip");
    dir.write("tokenizer.json", std::string(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
      "decoder": {"type": "Strip", "content": " ", "start": )") + start + R"(, "stop": 0}})");
    EXPECT_NE(error_of([&] { Tokenizer::load(dir.path()); }).find("Strip decoder 'start' must be an integer"),
              std::string::npos)
        << start;
  }
}

// A tokenizer.json whose split pattern backtracks exponentially ("(a+)+$" on a run of a's that
// ends in something else) must fail with a clear error within PCRE2's match limit instead of
// hanging the server: 2^40 steps here without the limit.
TEST(TokenizerErrors, CatastrophicSplitPatternHitsTheMatchLimit) {
  ScratchFolder dir("backtrack");
  dir.write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0, "!": 1}, "merges": []},
    "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a+)+$"}, "behavior": "Isolated",
                      "invert": false}})");
  const auto tok = Tokenizer::load(dir.path());
  EXPECT_EQ(tok->encode("aa"), (std::vector<int>{0, 0}));  // a normal input still encodes
  const auto start = std::chrono::steady_clock::now();
  const std::string msg = error_of([&] { tok->encode(std::string(40, 'a') + "!"); });
  EXPECT_NE(msg.find("match limit"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(a+)+$"), std::string::npos) << msg;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
}

// Found by fuzz_vocab_merges (fuzz/regressions/vocab_merges/added-tokens-float-id): an
// added_tokens.json id of 1.8e20 was converted to int64 (undefined behaviour).
TEST(TokenizerErrors, AddedTokensIdsMustBeIntegers) {
  for (const char* id : {"1.8446744073709552e+20", "18446744073709551615", "2.0", "\"3\""}) {
    ScratchFolder dir("addedfloat");
    dir.write("vocab.json", R"({"a": 0, "b": 1})");
    dir.write("merges.txt", "#version: 0.2\n");
    dir.write("added_tokens.json", std::string(R"({"<x>": )") + id + "}");
    const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
    EXPECT_NE(msg.find("added_tokens.json"), std::string::npos) << id << ": " << msg;
    EXPECT_NE(msg.find("is not an integer"), std::string::npos) << id << ": " << msg;
  }
}

}  // namespace
}  // namespace qlm::test
