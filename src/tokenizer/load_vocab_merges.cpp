// vocab.json + merges.txt reader (the slow-tokenizer layout of Qwen2 and GPT-2 folders):
// the pipeline is implied by tokenizer_config.json's tokenizer_class.
#include <fstream>

#include "base/error.h"
#include "tokenizer/loaders.h"

namespace qlm::tok {

using nlohmann::json;

namespace {
bool file_exists(const std::string& path) {
  return std::ifstream(path).good();
}

void read_merges(const std::string& path, TokenizerSpec& spec) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open file");
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0)) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
      fail(path, ":", number, ": expected two tokens separated by one space");
    spec.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
}
}  // namespace

TokenizerSpec load_vocab_merges(const std::string& dir) {
  TokenizerSpec spec;
  spec.source = dir + "/vocab.json";
  // Entries go straight into the spec: a JSON tree of 150k std::map nodes would cost more.
  std::string piece;
  auto take_entry = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    if (depth != 1) return true;
    if (event == json::parse_event_t::key) {
      piece = std::move(parsed.get_ref<std::string&>());
      return false;  // the value callback still runs
    }
    if (event != json::parse_event_t::value) return true;
    if (!parsed.is_number_integer()) fail(spec.source, ": id of \"", piece, "\" is not an integer");
    spec.vocab.emplace_back(std::move(piece), parsed.get<int>());
    return false;
  };
  json vocab;
  try {
    vocab = json::parse(read_text_file(spec.source), take_entry);
  } catch (const json::exception& e) {
    fail(spec.source, ": invalid JSON: ", e.what());
  }
  if (!vocab.is_object()) fail(spec.source, ": expected an object of token -> id");
  read_merges(dir + "/merges.txt", spec);

  const std::string config_path = dir + "/tokenizer_config.json";
  json config = file_exists(config_path) ? read_json_file(config_path) : json::object();
  const std::string cls = config.value("tokenizer_class", std::string("Qwen2Tokenizer"));
  spec.byte_level = true;
  spec.decoder.byte_level = true;
  if (cls == "Qwen2Tokenizer" || cls == "Qwen2TokenizerFast") {
    spec.normalizer.push_back({NormalizerKind::kNfc, "", ""});
    spec.split_patterns.push_back(kQwen2SplitPattern);
  } else if (cls == "GPT2Tokenizer" || cls == "GPT2TokenizerFast") {
    spec.split_patterns.push_back(kGpt2SplitPattern);
  } else {
    fail(config_path, ": tokenizer_class \"", cls,
         "\" without a tokenizer.json is not supported "
         "(vocab.json + merges.txt is read for Qwen2Tokenizer and GPT2Tokenizer)");
  }

  try {
    if (config.contains("added_tokens_decoder")) {
      for (const auto& [id, t] : config["added_tokens_decoder"].items()) {
        spec.added_tokens.push_back({.content = t.at("content").get<std::string>(),
                                     .id = std::stoi(id),
                                     .special = t.value("special", false),
                                     .lstrip = t.value("lstrip", false),
                                     .rstrip = t.value("rstrip", false),
                                     .single_word = t.value("single_word", false)});
      }
    } else if (file_exists(dir + "/added_tokens.json")) {
      // No flags here: tokens named in special_tokens_map.json count as special.
      const json added = read_json_file(dir + "/added_tokens.json");
      const std::string map_path = dir + "/special_tokens_map.json";
      const std::string specials =
          file_exists(map_path) ? read_json_file(map_path).dump() : std::string();
      for (const auto& [content, id] : added.items()) {
        const bool special = specials.find(json(content).dump()) != std::string::npos;
        spec.added_tokens.push_back({.content = content, .id = id.get<int>(), .special = special});
      }
    }
    apply_tokenizer_config(config, spec, false);
  } catch (const json::exception& e) {
    fail(config_path, ": unexpected structure: ", e.what());
  } catch (const std::logic_error& e) {  // std::stoi on a non-numeric id
    fail(config_path, ": added_tokens_decoder has a non-numeric id");
  }
  return spec;
}

}  // namespace qlm::tok
