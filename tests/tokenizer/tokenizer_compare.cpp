// Differential check against a large reference dump (scripts/tokenizer_goldens/make_fuzz.mjs):
// qlm_tokenizer_compare FILE.json [shared_data_dir]. Prints mismatches; exit 1 if any.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.json [shared_data_dir]\n", argv[0]);
    return 2;
  }
  const std::string data = argc > 2 ? argv[2] : QLM_SHARED_DATA;
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const auto dump = nlohmann::json::parse(buffer.str());
  const auto strings = dump.at("strings").get<std::vector<std::string>>();
  int total_bad = 0;
  try {
    for (const auto& [dir, ids] : dump.at("ids").items()) {
      const auto tok = qlm::Tokenizer::load(data + "/" + dir);
      int bad = 0;
      for (size_t i = 0; i < strings.size(); ++i) {
        const std::vector<int> got = tok->encode(strings[i]);
        if (got == ids[i].get<std::vector<int>>()) continue;
        if (++bad <= 3)
          std::printf("%s mismatch on %s\n  expected %s\n  got      %s\n", dir.c_str(),
                      nlohmann::json(strings[i]).dump().c_str(), ids[i].dump().c_str(),
                      nlohmann::json(got).dump().c_str());
      }
      std::printf("%s: %d mismatches of %zu strings\n", dir.c_str(), bad, strings.size());
      total_bad += bad;
    }
  } catch (const qlm::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return total_bad == 0 ? 0 : 1;
}
