// Encode throughput on English text: qlm_tokenizer_bench [tokenizer_dir] [text_file].
// Defaults: the Qwen2.5 vocab + merges folder and tinyshakespeare from ../shared/data.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : QLM_SHARED_DATA "/tokenizers/qwen2.5";
  const std::string path = argc > 2 ? argv[2] : QLM_SHARED_DATA "/text/tinyshakespeare.txt";
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) qlm::fail(path, ": cannot open file");
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();

    auto t0 = std::chrono::steady_clock::now();
    const auto tokenizer = qlm::Tokenizer::load(dir);
    auto t1 = std::chrono::steady_clock::now();
    std::printf("load %s: %.3f s\n", dir.c_str(), std::chrono::duration<double>(t1 - t0).count());

    // First pass fills the word cache (cold); the second is what a long-running server sees.
    for (const char* label : {"cold", "warm"}) {
      t0 = std::chrono::steady_clock::now();
      const std::vector<int> ids = tokenizer->encode(text);
      t1 = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(t1 - t0).count();
      std::printf("encode %s: %zu bytes -> %zu tokens in %.3f s = %.1f MB/s\n", label, text.size(),
                  ids.size(), seconds, text.size() / seconds / 1e6);
    }
  } catch (const qlm::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
