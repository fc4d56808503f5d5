// vocab.json + merges.txt reader (the slow-tokenizer layout of Qwen2 and GPT-2 folders):
// the pipeline is implied by tokenizer_config.json's tokenizer_class.
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "tokenizer/loaders.h"

namespace qlm::tok {

using nlohmann::json;

namespace {
bool file_exists(const std::string& path) {
  return std::ifstream(path).good();
}

void read_merges(const std::string& text, const std::string& path, TokenizerSpec& spec) {
  std::istringstream in(text);
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0)) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
      fail(path, ":", number, ": expected two tokens separated by one space");
    if (spec.merges.size() >= static_cast<size_t>(kMaxVocabSize))
      fail(path, ": more than ", kMaxVocabSize, " merges (the limit)");
    spec.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
}

// A token id from a file: an integer in [0, kMaxVocabSize).
int checked_id(int64_t id, const std::string& path, const std::string& piece) {
  if (id < 0 || id >= kMaxVocabSize)
    fail(path, ": id ", id, " of token \"", piece, "\" is not in [0, ", kMaxVocabSize, ")");
  return static_cast<int>(id);
}

// A JSON id: only integers (a float such as 1.8e20 has no int64 value: converting it was
// undefined behaviour, found by fuzz_vocab_merges); unsigned ones past int64 are out of range.
int checked_json_id(const json& v, const std::string& path, const std::string& piece) {
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
    fail(path, ": id ", v.dump(), " of token \"", piece, "\" is not an integer");
  return checked_id(v.get<int64_t>(), path, piece);
}
}  // namespace

TokenizerSpec load_vocab_merges(const std::string& dir) {
  VocabMergesText files;
  files.vocab = read_text_file(dir + "/vocab.json");
  files.merges = read_text_file(dir + "/merges.txt");
  const std::string config_path = dir + "/tokenizer_config.json";
  if (file_exists(config_path)) files.config = read_json_file(config_path);
  if (file_exists(dir + "/added_tokens.json"))
    files.added_tokens = read_json_file(dir + "/added_tokens.json");
  const std::string map_path = dir + "/special_tokens_map.json";
  if (file_exists(map_path)) files.special_tokens_map = read_json_file(map_path).dump();
  return parse_vocab_merges(files, dir);
}

TokenizerSpec parse_vocab_merges(const VocabMergesText& files, const std::string& dir) {
  TokenizerSpec spec;
  spec.source = dir + "/vocab.json";
  // Entries go straight into the spec: a JSON tree of 150k std::map nodes would cost more.
  std::string piece;
  auto take_entry = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    if (depth != 1) return true;
    // A nested value is not an id; refusing it here also keeps nlohmann's callback parser from
    // its quadratic rescans of the top-level object at every nested object's end.
    if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start)
      fail(spec.source, ": id of \"", piece, "\" is not an integer");
    if (event == json::parse_event_t::key) {
      piece = std::move(parsed.get_ref<std::string&>());
      return false;  // the value callback still runs
    }
    if (event != json::parse_event_t::value) return true;
    if (!parsed.is_number_integer()) fail(spec.source, ": id of \"", piece, "\" is not an integer");
    if (spec.vocab.size() >= static_cast<size_t>(kMaxVocabSize))
      fail(spec.source, ": more than ", kMaxVocabSize, " entries (the limit)");
    spec.vocab.emplace_back(std::move(piece),
                            checked_id(parsed.get<int64_t>(), spec.source, piece));
    return false;
  };
  json vocab;
  try {
    vocab = json::parse(files.vocab, take_entry);
  } catch (const json::exception& e) {
    fail(spec.source, ": invalid JSON: ", e.what());
  }
  if (!vocab.is_object()) fail(spec.source, ": expected an object of token -> id");
  read_merges(files.merges, dir + "/merges.txt", spec);

  const std::string config_path = dir + "/tokenizer_config.json";
  const json& config = files.config;
  try {
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

    if (config.contains("added_tokens_decoder")) {
      for (const auto& [id, t] : config["added_tokens_decoder"].items()) {
        spec.added_tokens.push_back({.content = t.at("content").get<std::string>(),
                                     .id = checked_id(std::stoll(id), config_path, id),
                                     .special = t.value("special", false),
                                     .lstrip = t.value("lstrip", false),
                                     .rstrip = t.value("rstrip", false),
                                     .single_word = t.value("single_word", false)});
      }
    } else if (files.added_tokens) {
      // No flags here: tokens named in special_tokens_map.json count as special.
      const std::string& specials = files.special_tokens_map;
      for (const auto& [content, id] : files.added_tokens->items()) {
        const bool special = specials.find(json(content).dump()) != std::string::npos;
        spec.added_tokens.push_back(
            {.content = content,
             .id = checked_json_id(id, dir + "/added_tokens.json", content),
             .special = special});
      }
    }
    apply_tokenizer_config(config, spec, false);
  } catch (const json::exception& e) {
    fail(config_path, ": unexpected structure: ", e.what());
  } catch (const std::logic_error& e) {  // std::stoll on a non-numeric id
    fail(config_path, ": added_tokens_decoder has a non-numeric id");
  }
  return spec;
}

}  // namespace qlm::tok
