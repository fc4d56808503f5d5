// Fuzz target: the vocab.json + merges.txt layout. The input holds, split at NUL bytes,
// vocab.json, merges.txt, tokenizer_config.json, added_tokens.json, special_tokens_map.json
// (missing or empty parts mean the file is absent).
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "tokenizer/loaders.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = qlm::fuzz::split_parts(data, size, 5);
  qlm::fuzz::expect_clean([&] {
    qlm::tok::VocabMergesText files{.vocab = parts[0], .merges = parts[1]};
    // The loader reads the three JSON side files with read_json_file, which reports bad JSON.
    auto side = [](const std::string& text) {
      return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    };
    if (!parts[2].empty() && (files.config = side(parts[2])).is_discarded()) return;
    if (!parts[3].empty() && (files.added_tokens = side(parts[3]))->is_discarded()) return;
    files.special_tokens_map = parts[4];
    qlm::Tokenizer tok(qlm::tok::parse_vocab_merges(files, "fuzz"));
    const int v = tok.vocab_size();
    for (const char* s :
         {"Hello world, it's 2024!", "naïve café 日本語 🙂\n\n", "<|endoftext|>x"}) {
      std::vector<int> ids = tok.encode(s);
      for (int id : ids) FUZZ_ASSERT(id >= 0 && id < v);
      tok.decode(ids);
    }
  });
  return 0;
}
