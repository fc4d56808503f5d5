// Fuzz target: user text through real tokenizers (Llama-3 and Qwen3 tokenizer.json, Qwen2.5
// vocab.json + merges.txt, the SentencePiece-style stories260K). Byte 0 picks the tokenizer
// and whether special tokens are parsed; the rest is the text, and also read as ids to decode.
#include <memory>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"

namespace {
struct Loaded {
  std::unique_ptr<qlm::Tokenizer> tok;
  bool round_trips;  // byte-level without a normalizer: decode(encode(text)) == text
};
std::vector<Loaded> tokenizers;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  try {
    tokenizers.push_back({qlm::Tokenizer::load(qlm::fuzz::shared_data("tokenizers/llama3")), true});
    tokenizers.push_back({qlm::Tokenizer::load(qlm::fuzz::shared_data("tokenizers/qwen3")), false});
    tokenizers.push_back(
        {qlm::Tokenizer::load(qlm::fuzz::shared_data("tokenizers/qwen2.5")), false});
    tokenizers.push_back(
        {qlm::Tokenizer::load(qlm::fuzz::shared_data("models/stories260K")), false});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_tokenize needs ../shared/data (or QLM_SHARED_DATA): %s\n", e.what());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Loaded& t = tokenizers[data[0] % tokenizers.size()];
  const bool special = (data[0] / tokenizers.size()) % 2 == 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  qlm::fuzz::expect_clean([&] {
    const std::vector<int> ids = t.tok->encode(text, special);
    for (int id : ids) FUZZ_ASSERT(id >= 0 && id < t.tok->vocab_size());
    const std::string back = t.tok->decode(ids);
    if (t.round_trips) FUZZ_ASSERT(back == text);
  });
  // Arbitrary ids (3 bytes each) through decode and the streaming decoder, which must agree.
  std::vector<int> ids;
  for (size_t i = 1; i + 3 <= size; i += 3)
    ids.push_back((data[i] << 16 | data[i + 1] << 8 | data[i + 2]) - 4096);
  const std::string whole = t.tok->decode(ids);
  qlm::StreamDecoder stream(*t.tok);
  std::string streamed;
  for (int id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  FUZZ_ASSERT(streamed == whole);
  return 0;
}
