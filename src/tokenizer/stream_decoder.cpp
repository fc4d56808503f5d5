// Incremental decode for generation output: emits only complete UTF-8 characters.
#include "base/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_core.h"
#include "tokenizer/utf8.h"

namespace qlm {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : core_(tokenizer.core()),
      skip_special_(skip_special),
      strip_remaining_(core_.strip_leading_spaces()) {}

std::string StreamDecoder::push(int id) {
  // Ids without a token (padding rows of an embedding) decode to nothing, as in HF.
  if (id < 0 || id >= core_.vocab_size()) return {};
  if (skip_special_ && core_.is_special(id)) return {};
  const int byte = core_.fallback_byte(id);
  if (byte >= 0) {
    // A run of <0xXX> tokens decodes as a whole: its bytes if they are valid UTF-8, else one
    // U+FFFD per byte (HF's ByteFallback), so it is held until a token of another kind ends it.
    first_ = false;
    run_ += static_cast<char>(byte);
    return {};
  }
  std::string out = end_run();
  if (first_) {
    out += emit(core_.first_token_bytes(id));  // the first token may decode differently (Metaspace)
  } else {
    out += emit(core_.token_bytes(id));
  }
  first_ = false;
  return out;
}

std::string StreamDecoder::end_run() {
  if (run_.empty()) return {};
  std::string text;
  if (tok::first_invalid_utf8(run_) == std::string_view::npos) {
    text = std::move(run_);
  } else {
    for (size_t i = 0; i < run_.size(); ++i) text += tok::kReplacementChar;
  }
  run_.clear();
  return emit(text);
}

std::string StreamDecoder::emit(std::string_view text) {
  // The Strip decoder removes leading spaces of the whole output, i.e. of the first bytes.
  while (strip_remaining_ > 0 && !text.empty()) {
    if (text[0] != ' ') {
      strip_remaining_ = 0;
      break;
    }
    text.remove_prefix(1);
    --strip_remaining_;
  }
  pending_.append(text);
  return take_complete();
}

// Invalid bytes: one U+FFFD per maximal invalid sequence (Rust's from_utf8_lossy, byte-level
// decoders), or one per byte where they come from <0xXX> tokens (HF's ByteFallback decoder).
void StreamDecoder::append_replacement(std::string& out, size_t bytes) const {
  const size_t count = core_.byte_fallback_decoder() ? bytes : 1;
  for (size_t k = 0; k < count; ++k) out.append(tok::kReplacementChar);
}

std::string StreamDecoder::take_complete() {
  std::string out;
  size_t i = 0, copied = 0;
  while (i < pending_.size()) {
    const tok::Utf8Step step = tok::utf8_step(pending_, i);
    if (step.status == tok::Utf8Status::kIncomplete) break;  // wait for the next token
    if (step.status == tok::Utf8Status::kInvalid) {
      out.append(pending_, copied, i - copied);
      append_replacement(out, step.length);
      copied = i + step.length;
    }
    i += step.length;
  }
  out.append(pending_, copied, i - copied);
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = end_run();
  out += take_complete();
  if (!pending_.empty()) append_replacement(out, pending_.size());  // an unfinished character
  pending_.clear();
  return out;
}

}  // namespace qlm
