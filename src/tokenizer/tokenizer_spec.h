// Everything a tokenizer folder says, in one plain struct: the loaders fill it from
// tokenizer.json or vocab.json + merges.txt, and TokenizerCore is built from it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qlm::tok {

struct AddedToken {
  std::string content;
  int id = -1;
  bool special = false;
  bool lstrip = false;       // the match also swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool single_word = false;  // matches only when not inside a word
};

enum class NormalizerKind { kNfc, kPrepend, kReplace };
struct NormalizerStep {
  NormalizerKind kind;
  std::string from;  // kReplace: the literal pattern
  std::string to;    // kPrepend: the prefix; kReplace: the replacement
};

// The two decoder chains real models use. byte_level: tokens map back to bytes through
// the GPT-2 byte<->unicode table. Otherwise: Replace steps, ByteFallback, Fuse, Strip.
struct DecoderSpec {
  bool byte_level = false;
  std::vector<std::pair<std::string, std::string>> replacements;
  bool byte_fallback = false;  // <0xXX> tokens are raw bytes
  int strip_leading_spaces = 0;
  // Metaspace decoder: the replacement becomes a space, except in the first token, where HF
  // drops it (when its prepend_scheme is not "never").
  std::string metaspace_replacement;
  bool metaspace_drop_in_first = false;
};

struct TokenizerSpec {
  std::string source;                              // file the spec came from, for error messages
  std::vector<std::pair<std::string, int>> vocab;  // model vocabulary (piece, id)
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::optional<std::string> unk_token;
  bool byte_fallback = false;
  bool fuse_unk = false;
  bool ignore_merges = false;  // a pre-token that is itself in the vocab is emitted whole

  std::vector<NormalizerStep> normalizer;
  std::vector<std::string> split_patterns;  // Split(Isolated) regexes, applied in order
  bool byte_level = false;  // ByteLevel pre-tokenizer: words are bytes mapped to unicode
  bool byte_level_prefix_space = false;

  // Metaspace pre-tokenizer (non-legacy Llama/Mistral conversions): spaces become the
  // replacement ("▁"), which is prepended to every segment (kAlways) or only to the one at
  // the start of the input (kFirst); split cuts before each replacement.
  enum class PrependScheme { kAlways, kFirst, kNever };
  bool metaspace = false;
  std::string metaspace_replacement;
  PrependScheme metaspace_prepend = PrependScheme::kAlways;
  bool metaspace_split = false;

  DecoderSpec decoder;
  std::vector<AddedToken> added_tokens;
  std::optional<std::string> bos_token, eos_token;
  bool add_bos = false;
};

// Limits on untrusted tokenizer files (the largest real vocabularies are ~260k tokens): ids
// must lie in [0, kMaxVocabSize) and a file may list at most that many entries or merges.
inline constexpr int kMaxVocabSize = 1 << 22;

// Regex that Qwen2 uses; vocab.json + merges.txt folders of Qwen2Tokenizer get it.
inline constexpr const char* kQwen2SplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// GPT-2's regex: ByteLevel(use_regex = true) and GPT2Tokenizer folders.
inline constexpr const char* kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace qlm::tok
