// Streaming decode over the golden corpus, holding back split characters, and the facts
// each tokenizer folder states (vocab size, BOS/EOS, whether BOS is added).
#include <gtest/gtest.h>

#include "golden_corpus.h"
#include "tokenizer/utf8.h"

namespace qlm::test {
namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

class StreamTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!shared_data_present()) GTEST_SKIP() << "shared data not found at " << kSharedData;
  }
};

TEST_P(StreamTest, PushByPushEqualsFullDecodeWithoutReplacementChars) {
  const Golden& g = golden(GetParam());
  const Tokenizer& tok = shared_tokenizer(g.tokenizer_dir);
  int failures = 0;
  for (const GoldenCase& c : g.cases) {
    StreamDecoder stream(tok);
    std::string joined;
    bool saw_fffd = false;
    for (int id : c.ids) {
      const std::string chunk = stream.push(id);
      saw_fffd |= chunk.find(kFffd) != std::string::npos;
      joined += chunk;
    }
    const std::string tail = stream.flush();
    saw_fffd |= tail.find(kFffd) != std::string::npos;
    joined += tail;
    const std::string full = tok.decode(c.ids);
    if (joined == full && !saw_fffd) continue;
    if (++failures <= 5)
      ADD_FAILURE() << c.label << "\n  streamed: " << nlohmann::json(joined).dump()
                    << (saw_fffd ? " (contains U+FFFD)" : "")
                    << "\n  full:     " << nlohmann::json(full).dump();
  }
  EXPECT_EQ(failures, 0);
}

// Rare characters that byte-level and byte-fallback vocabularies split into several tokens.
std::vector<int> split_character_ids(const Tokenizer& tok) {
  for (const char* ch : {"\xF0\x9F\xAB\xA0", "\xF0\x93\x80\x80", "\xF0\x9D\x84\x9E"}) {
    std::vector<int> ids = tok.encode(ch);
    if (ids.size() >= 2) return ids;
  }
  return {};
}

TEST_P(StreamTest, SplitCharacterIsHeldBackUntilComplete) {
  const Tokenizer& tok = shared_tokenizer(golden(GetParam()).tokenizer_dir);
  const std::vector<int> ids = split_character_ids(tok);
  ASSERT_FALSE(ids.empty()) << "no test character is split into several tokens";
  StreamDecoder stream(tok);
  for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_EQ(stream.push(ids[i]), "") << "token " << i;
  std::string out = stream.push(ids.back());
  out += stream.flush();
  EXPECT_EQ(out, tok.decode(ids));
  EXPECT_EQ(out.find(kFffd), std::string::npos);
  EXPECT_EQ(out.size(), 4u);
}

TEST_P(StreamTest, UnfinishedCharacterBecomesReplacementAtFlush) {
  const Tokenizer& tok = shared_tokenizer(golden(GetParam()).tokenizer_dir);
  const std::vector<int> ids = split_character_ids(tok);
  ASSERT_FALSE(ids.empty());
  StreamDecoder stream(tok);
  for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_EQ(stream.push(ids[i]), "");
  const std::string tail = stream.flush();
  EXPECT_EQ(tail.find_first_not_of(kFffd), std::string::npos) << tail;
  EXPECT_FALSE(tail.empty());
  // The full decode agrees: one U+FFFD (byte-level) or one per <0xXX> byte (ByteFallback).
  const std::vector<int> head(ids.begin(), ids.end() - 1);
  EXPECT_EQ(tok.decode(head), tail);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, StreamTest, ::testing::ValuesIn(kGoldenNames),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (ch == '.') ch = '_';
                           return name;
                         });

class FolderFacts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!shared_data_present()) GTEST_SKIP() << "shared data not found at " << kSharedData;
  }
};

// Expected values are read off the folders' JSON files, not from qlm.
TEST_F(FolderFacts, Qwen25VocabMerges) {
  const Tokenizer& tok = shared_tokenizer(kSharedData + "/tokenizers/qwen2.5");
  EXPECT_EQ(tok.vocab_size(), 151665);
  EXPECT_FALSE(tok.bos_id());
  EXPECT_EQ(tok.eos_id(), 151645);
  EXPECT_FALSE(tok.add_bos());
  EXPECT_EQ(tok.token_to_id("<|im_start|>"), 151644);
  EXPECT_TRUE(tok.is_special(151644));
  EXPECT_FALSE(tok.is_special(151657));  // <tool_call> is added but not special
  EXPECT_EQ(tok.piece(9707), "Hello");
  EXPECT_EQ(tok.piece(1879), "\xC4\xA0world");  // "Ġworld"
}

TEST_F(FolderFacts, Qwen3) {
  const Tokenizer& tok = shared_tokenizer(kSharedData + "/tokenizers/qwen3");
  EXPECT_EQ(tok.vocab_size(), 151669);
  EXPECT_EQ(tok.eos_id(), 151645);
  EXPECT_FALSE(tok.add_bos());
  EXPECT_EQ(tok.token_to_id("</think>"), 151668);
}

TEST_F(FolderFacts, Llama3) {
  const Tokenizer& tok = shared_tokenizer(kSharedData + "/tokenizers/llama3");
  EXPECT_EQ(tok.vocab_size(), 128256);
  EXPECT_EQ(tok.bos_id(), 128000);
  EXPECT_EQ(tok.eos_id(), 128001);
  // This tokenizer.json's post_processor is ByteLevel (no TemplateProcessing), so HF adds no BOS.
  EXPECT_FALSE(tok.add_bos());
}

TEST_F(FolderFacts, Stories260K) {
  const Tokenizer& tok = shared_tokenizer(kSharedData + "/models/stories260K");
  EXPECT_EQ(tok.vocab_size(), 512);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_TRUE(tok.add_bos());  // TemplateProcessing "<s> $A"
}

// Found by fuzz_tokenize (fuzz/regressions/tokenize/stream-byte-fallback-run): <0xFD> <0x6C> is
// not UTF-8, so HF's ByteFallback decodes the whole run as two U+FFFD; the stream once gave "�l".
TEST_F(FolderFacts, StreamedByteFallbackRunEqualsDecode) {
  const Tokenizer& tok = shared_tokenizer(kSharedData + "/models/stories260K");
  const int fd = *tok.token_to_id("<0xFD>"), l = *tok.token_to_id("<0x6C>"), the = *tok.token_to_id("\u2581the");
  for (const std::vector<int>& ids : {std::vector<int>{fd, l}, {the, fd, l, the}, {l, *tok.token_to_id("<0xC3>"),
                                                                                   *tok.token_to_id("<0xA9>"), the}}) {
    StreamDecoder stream(tok);
    std::string streamed;
    for (int id : ids) streamed += stream.push(id);
    streamed += stream.flush();
    EXPECT_EQ(streamed, tok.decode(ids));
  }
  EXPECT_EQ(tok.decode(std::vector<int>{fd, l}), "\uFFFD\uFFFD");
  EXPECT_EQ(tok.decode(std::vector<int>{l, *tok.token_to_id("<0xC3>"), *tok.token_to_id("<0xA9>")}), "l\u00e9");
}

TEST_F(FolderFacts, SkipSpecialDropsSpecialTokensOnly) {
  const Tokenizer& tok = shared_tokenizer(kSharedData + "/tokenizers/qwen2.5");
  const std::vector<int> ids = tok.encode("<|im_start|>user\n<tool_call>hi<|im_end|>");
  EXPECT_EQ(tok.decode(ids, true), "user\n<tool_call>hi");
  EXPECT_EQ(tok.decode(ids, false), "<|im_start|>user\n<tool_call>hi<|im_end|>");
}

TEST_F(FolderFacts, StoriesDecodeMatchesLlama2cText) {
  // expected_greedy_ids.txt / expected_greedy.txt come from llama2.c's run.c.
  const Tokenizer& tok = shared_tokenizer(kSharedData + "/models/stories260K");
  std::istringstream in(read_file(kSharedData + "/models/stories260K/expected_greedy_ids.txt"));
  std::vector<int> ids;
  for (int id; in >> id;) ids.push_back(id);
  ASSERT_GT(ids.size(), 100u);
  const std::string expected = read_file(kSharedData + "/models/stories260K/expected_greedy.txt");
  // run.c prints pieces after BOS with the first space stripped, as HF's Strip decoder does;
  // the file ends with the newline run.c prints after generation.
  EXPECT_EQ(tok.decode(ids, true) + "\n", expected);
  // What `qlm generate` streams: the same text, token by token, BOS skipped.
  StreamDecoder stream(tok, /*skip_special=*/true);
  std::string streamed;
  for (int id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  EXPECT_EQ(streamed + "\n", expected);
}

}  // namespace
}  // namespace qlm::test
