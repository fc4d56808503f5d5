// Reads tests/tokenizer/golden/<name>.json (ids from the JavaScript reference tokenizer) and
// resolves each case's text, from ../shared/data lines or inline; loads tokenizers once.
#pragma once

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace qlm::test {

struct GoldenCase {
  std::string label;  // where the text came from, for failure messages
  std::string text;
  std::vector<int> ids;
  std::optional<std::string> decoded;  // the reference's decode(ids), where recorded
};

struct Golden {
  std::string tokenizer_dir;  // absolute
  std::vector<GoldenCase> cases;
  std::vector<GoldenCase> plain_cases;  // special tokens treated as text
};

inline const std::string kSharedData = QLM_SHARED_DATA;

inline bool shared_data_present() {
  return std::ifstream(kSharedData + "/README.md").good();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Lines split on "\n" only, as the golden script does (CRLF files keep their "\r").
inline const std::vector<std::string>& file_lines(const std::string& file) {
  static std::map<std::string, std::vector<std::string>> cache;
  auto [it, inserted] = cache.try_emplace(file);
  if (inserted) {
    const std::string text = read_file(kSharedData + "/" + file);
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
      it->second.push_back(text.substr(start, nl - start));
    it->second.push_back(text.substr(start));
  }
  return it->second;
}

inline std::vector<GoldenCase> parse_cases(const nlohmann::json& list) {
  std::vector<GoldenCase> cases;
  for (const auto& c : list) {
    GoldenCase g;
    if (c.contains("text")) {
      g.text = c["text"].get<std::string>();
      g.label = "inline " + nlohmann::json(g.text).dump();
    } else {
      const std::string file = c["file"];
      const int line = c["line"], count = c["count"];
      const auto& lines = file_lines(file);
      for (int k = 0; k < count; ++k) {
        if (k > 0) g.text += '\n';
        g.text += lines.at(line - 1 + k);
      }
      g.label = file + ":" + std::to_string(line) + " (+" + std::to_string(count) + " lines)";
    }
    g.ids = c["ids"].get<std::vector<int>>();
    if (c.contains("decoded")) g.decoded = c["decoded"].get<std::string>();
    cases.push_back(std::move(g));
  }
  return cases;
}

inline const Golden& golden(const std::string& name) {
  static std::map<std::string, Golden> cache;
  auto [it, inserted] = cache.try_emplace(name);
  if (inserted) {
    const auto json =
        nlohmann::json::parse(read_file(std::string(QLM_TOKENIZER_GOLDEN) + "/" + name + ".json"));
    it->second.tokenizer_dir = kSharedData + "/" + json["tokenizer"].get<std::string>();
    it->second.cases = parse_cases(json["cases"]);
    it->second.plain_cases = parse_cases(json["plain_cases"]);
  }
  return it->second;
}

// Tokenizers are expensive to load (10 MB of JSON); every test shares one per folder.
inline const Tokenizer& shared_tokenizer(const std::string& dir) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[dir];
  if (!slot) slot = Tokenizer::load(dir);
  return *slot;
}

inline std::string ids_string(const std::vector<int>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

inline const std::vector<std::string> kGoldenNames = {"qwen2.5", "qwen3", "llama3", "stories260K"};

}  // namespace qlm::test
