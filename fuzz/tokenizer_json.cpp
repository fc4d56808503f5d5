// Fuzz target: tokenizer.json (+ tokenizer_config.json after a NUL byte), then the tokenizer it
// builds encodes and decodes a few fixed strings.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "tokenizer/loaders.h"
#include "tokenizer/tokenizer.h"

namespace {
// Byte-level, SentencePiece-style and special-token paths all get some text.
const char* const kSamples[] = {"Hello world, it's 2024!", "  leading spaces\n\ttabs\r\n",
                                "<|im_start|>user\nhi<|im_end|>", "naïve café 日本語 🙂",
                                "<s> <unk> </s>"};

void exercise(const qlm::Tokenizer& tok) {
  const int v = tok.vocab_size();
  for (const char* s : kSamples) {
    for (bool special : {true, false}) {
      std::vector<int> ids = tok.encode(s, special);
      for (int id : ids) FUZZ_ASSERT(id >= 0 && id < v);
      tok.decode(ids, false);
      tok.decode(ids, true);
    }
  }
  std::vector<int> ids;
  for (int id = -1; id < v && id < 300; ++id) ids.push_back(id);
  tok.decode(ids);
  qlm::StreamDecoder stream(tok);
  for (int id : ids) stream.push(id);
  stream.flush();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = qlm::fuzz::split_parts(data, size, 2);
  qlm::fuzz::expect_clean([&] {
    std::optional<nlohmann::json> config;
    if (!parts[1].empty()) {
      config = nlohmann::json::parse(parts[1], nullptr, /*allow_exceptions=*/false);
      if (config->is_discarded()) return;  // the loader reports a malformed config before this
    }
    qlm::Tokenizer tok(
        qlm::tok::parse_tokenizer_json(parts[0], "tokenizer.json", config ? &*config : nullptr));
    exercise(tok);
  });
  return 0;
}
