// Readers that turn a tokenizer folder into a TokenizerSpec: tokenizer.json, or the older
// vocab.json + merges.txt layout, plus tokenizer_config.json for BOS/EOS and added tokens.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tokenizer/tokenizer_spec.h"

namespace qlm::tok {

TokenizerSpec load_tokenizer_json(const std::string& path);
TokenizerSpec load_vocab_merges(const std::string& dir);

// The same from file contents (for fuzzing and tests): `path` / `dir` only name the files in
// errors. tokenizer_config is the parsed tokenizer_config.json, or null when there is none.
TokenizerSpec parse_tokenizer_json(const std::string& text, const std::string& path,
                                   const nlohmann::json* tokenizer_config);
struct VocabMergesText {
  std::string vocab;                         // vocab.json
  std::string merges;                        // merges.txt
  nlohmann::json config = nlohmann::json::object();  // tokenizer_config.json
  std::optional<nlohmann::json> added_tokens;        // added_tokens.json, if present
  std::string special_tokens_map;            // special_tokens_map.json text, or empty
};
TokenizerSpec parse_vocab_merges(const VocabMergesText& files, const std::string& dir);

// Reads a whole file / a JSON file; throws qlm::Error naming the file if it is missing or
// malformed.
std::string read_text_file(const std::string& path);
nlohmann::json read_json_file(const std::string& path);

// tokenizer_config.json fields: bos_token, eos_token, add_bos_token. The config's value
// of add_bos_token wins only when the tokenizer itself says nothing.
void apply_tokenizer_config(const nlohmann::json& config, TokenizerSpec& spec, bool add_bos_known);

}  // namespace qlm::tok
