// Public tokenizer API: Hugging Face-compatible BPE (byte-level and SentencePiece-style)
// loaded from tokenizer.json or vocab.json + merges.txt, plus a streaming decoder.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qlm {

namespace tok {
struct TokenizerSpec;
class TokenizerCore;
}  // namespace tok

class Tokenizer {
 public:
  // Loads <dir>/tokenizer.json, else vocab.json + merges.txt (+ tokenizer_config.json
  // added_tokens_decoder / added_tokens.json). Throws qlm::Error naming the file at fault.
  static std::unique_ptr<Tokenizer> load(const std::string& dir);

  explicit Tokenizer(tok::TokenizerSpec spec);  // what load() builds; loaders.h fills the spec
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // allow_special: split out special added tokens (e.g. <|im_start|>) before BPE; when false
  // they are plain text (non-special added tokens such as <tool_call> are still split, as
  // Hugging Face does with split_special_tokens). Never adds BOS: see add_bos().
  // Throws qlm::Error("prompt is not valid UTF-8 at byte N") on invalid input.
  std::vector<int> encode(std::string_view text, bool allow_special = true) const;
  // Ids outside [0, vocab_size()) decode to nothing (models pad their embedding past the
  // vocabulary; HF skips such ids too).
  std::string decode(std::span<const int> ids, bool skip_special = false) const;

  // The raw vocabulary string (e.g. "Ġworld", "▁the", "<0x0A>"), for --verbose; throws
  // qlm::Error for an id with no token.
  std::string piece(int id) const;
  std::optional<int> token_to_id(std::string_view piece) const;
  int vocab_size() const;  // including added tokens
  std::optional<int> bos_id() const;
  std::optional<int> eos_id() const;
  bool add_bos() const;  // whether the model's tokenizer prepends bos_id() to encodings
  bool is_special(int id) const;

  const tok::TokenizerCore& core() const { return *core_; }  // internals, for StreamDecoder

 private:
  std::unique_ptr<tok::TokenizerCore> core_;
};

// Streaming decode: push one id, get the text that is now complete. Bytes of an incomplete
// UTF-8 character are held back until complete, so a character split across tokens never
// shows as U+FFFD. Bytes that can never form a character (e.g. a stray continuation byte)
// are emitted as U+FFFD when seen (holding them would stall output for good), as decode()
// of the whole sequence does. A run of <0xXX> byte tokens is held until it ends: one invalid
// byte turns the whole run into U+FFFDs (HF's ByteFallback). So pushes + flush == decode().
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false);
  std::string push(int id);
  std::string flush();  // whatever remains; an unfinished character becomes U+FFFD

 private:
  std::string take_complete();
  std::string emit(std::string_view text);  // decoded bytes -> the characters now complete
  std::string end_run();                    // emits a finished run of <0xXX> tokens
  void append_replacement(std::string& out, size_t bytes) const;

  const tok::TokenizerCore& core_;
  bool skip_special_;
  int strip_remaining_;  // leading spaces still to strip (SentencePiece "Strip" decoder)
  bool first_ = true;    // no token decoded yet
  std::string pending_;  // raw bytes not yet emitted
  std::string run_;      // bytes of the <0xXX> tokens since the last other token
};

}  // namespace qlm
