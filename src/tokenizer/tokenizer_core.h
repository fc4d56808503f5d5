// The loaded tokenizer: normalizer, pre-tokenizer, BPE model, added tokens and decoder,
// wired into encode/decode. Tokenizer (tokenizer.h) is its public face.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/regex_split.h"
#include "tokenizer/string_map.h"
#include "tokenizer/tokenizer_spec.h"

namespace qlm::tok {

class TokenizerCore {
 public:
  explicit TokenizerCore(TokenizerSpec spec);

  std::vector<int> encode(std::string_view text, bool allow_special) const;
  std::string decode(std::span<const int> ids, bool skip_special) const;

  // Decoder pieces for streaming: a token's bytes after the per-token decoder steps
  // (byte-level map or Replace), and its raw byte if it is a <0xXX> fallback token.
  const std::string& token_bytes(int id) const { return token_bytes_[id]; }
  int fallback_byte(int id) const { return fallback_byte_[id]; }
  // The first decoded token's bytes: the same, except that a Metaspace decoder drops "▁".
  std::string first_token_bytes(int id) const;
  int strip_leading_spaces() const { return spec_.decoder.strip_leading_spaces; }
  bool byte_fallback_decoder() const { return spec_.decoder.byte_fallback; }
  void check_id(int id) const;  // throws qlm::Error when id is outside the vocabulary

  const std::string& piece(int id) const { return pieces_[id]; }
  std::optional<int> token_to_id(std::string_view piece) const;
  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  bool is_special(int id) const { return id >= 0 && id < vocab_size() && special_[id]; }
  std::optional<int> bos_id() const { return bos_id_; }
  std::optional<int> eos_id() const { return eos_id_; }
  bool add_bos() const { return spec_.add_bos; }

 private:
  // at_start: the segment begins the input (Metaspace prepend_scheme "first").
  void encode_plain(std::string_view text, bool at_start, std::vector<int>& out) const;
  void split_metaspace(std::string& text, bool at_start,
                       std::vector<std::string_view>& pieces) const;
  std::string normalize(std::string_view text) const;

  TokenizerSpec spec_;  // normalizer, decoder and flags (vocab and merges are moved out)
  BpeModel bpe_;
  AddedTokenMatcher added_;
  std::vector<RegexSplitter> splitters_;
  StringMap<int> added_ids_;
  std::vector<std::string> pieces_;       // [vocab_size] raw vocabulary strings
  std::vector<std::string> token_bytes_;  // [vocab_size]
  std::vector<int16_t> fallback_byte_;    // [vocab_size] 0..255, or -1
  std::vector<uint8_t> special_;          // [vocab_size]
  std::optional<int> bos_id_, eos_id_;
};

}  // namespace qlm::tok
