// Encode: validate UTF-8, split out added tokens, normalize, pre-tokenize, BPE each piece.
// Decode: per-token bytes, ByteFallback runs, Strip, then lossy UTF-8 like HF.
#include "tokenizer/tokenizer_core.h"

#include <algorithm>

#include "base/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace qlm::tok {

namespace {
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  if (pos == 0) return;
  out.append(s, pos);
  s = std::move(out);
}

// Reverse of the GPT-2 byte map; a piece with any character outside it is kept verbatim,
// as HF's ByteLevel decoder does.
std::string byte_level_bytes(const std::string& piece) {
  static const auto reverse = [] {
    std::vector<int> r(512, -1);
    const ByteLevelTable& table = byte_level_table();
    for (int b = 0; b < 256; ++b) r[table.byte_to_cp[b]] = b;
    return r;
  }();
  std::string out;
  size_t i = 0;
  while (i < piece.size()) {
    const size_t len = utf8_step(piece, i).length;
    char32_t cp = 0;
    if (len == 1) {
      cp = static_cast<unsigned char>(piece[i]);
    } else if (len == 2) {
      cp = ((static_cast<unsigned char>(piece[i]) & 0x1F) << 6) |
           (static_cast<unsigned char>(piece[i + 1]) & 0x3F);
    } else {
      return piece;
    }
    if (cp >= reverse.size() || reverse[cp] < 0) return piece;
    out += static_cast<char>(reverse[cp]);
    i += len;
  }
  return out;
}

int parse_fallback_byte(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(piece[3]), lo = hex(piece[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}
}  // namespace

TokenizerCore::TokenizerCore(TokenizerSpec spec)
    : spec_(std::move(spec)), bpe_(spec_), added_(spec_.added_tokens) {
  for (const std::string& pattern : spec_.split_patterns) splitters_.emplace_back(pattern);

  int size = 0;
  auto grow = [&](int id, const std::string& piece) {
    if (id < 0 || id >= kMaxVocabSize)
      fail(spec_.source, ": id ", id, " of token \"", piece, "\" is not in [0, ", kMaxVocabSize, ")");
    size = std::max(size, id + 1);
  };
  for (const auto& [piece, id] : spec_.vocab) grow(id, piece);
  for (const AddedToken& t : spec_.added_tokens) grow(t.id, t.content);
  pieces_.resize(size);
  special_.assign(size, 0);
  for (auto& [piece, id] : spec_.vocab) pieces_[id] = std::move(piece);
  for (const AddedToken& t : spec_.added_tokens) {
    pieces_[t.id] = t.content;
    special_[t.id] = t.special;
    added_ids_.emplace(t.content, t.id);
  }
  spec_.vocab.clear();
  spec_.vocab.shrink_to_fit();
  spec_.merges.clear();
  spec_.merges.shrink_to_fit();

  // HF runs added tokens through the same decoder as vocabulary pieces.
  token_bytes_.resize(size);
  fallback_byte_.assign(size, -1);
  for (int id = 0; id < size; ++id) {
    const std::string& piece = pieces_[id];
    if (spec_.decoder.byte_level) {
      token_bytes_[id] = byte_level_bytes(piece);
      continue;
    }
    std::string text = piece;
    for (const auto& [from, to] : spec_.decoder.replacements) replace_all(text, from, to);
    token_bytes_[id] = std::move(text);
    if (spec_.decoder.byte_fallback)
      fallback_byte_[id] = static_cast<int16_t>(parse_fallback_byte(piece));
  }

  auto id_of = [&](const std::optional<std::string>& token,
                   const char* what) -> std::optional<int> {
    if (!token) return std::nullopt;
    const auto id = token_to_id(*token);
    if (!id) fail(spec_.source, ": ", what, " \"", *token, "\" is not a token of the vocabulary");
    return id;
  };
  bos_id_ = id_of(spec_.bos_token, "bos_token");
  eos_id_ = id_of(spec_.eos_token, "eos_token");
  if (spec_.add_bos && !bos_id_)
    fail(spec_.source, ": the tokenizer adds BOS but names no bos_token");
}

std::optional<int> TokenizerCore::token_to_id(std::string_view piece) const {
  if (const auto it = added_ids_.find(piece); it != added_ids_.end()) return it->second;
  return bpe_.find(piece);
}

void TokenizerCore::check_id(int id) const {
  if (id < 0 || id >= vocab_size())
    fail("token id ", id, " is outside the vocabulary (size ", vocab_size(), ")");
}

std::string TokenizerCore::normalize(std::string_view text) const {
  std::string s(text);
  for (const NormalizerStep& step : spec_.normalizer) {
    switch (step.kind) {
      case NormalizerKind::kNfc:
        s = nfc(s);
        break;
      case NormalizerKind::kPrepend:
        if (!s.empty()) s.insert(0, step.to);  // HF prepends only to non-empty text
        break;
      case NormalizerKind::kReplace:
        replace_all(s, step.from, step.to);
        break;
    }
  }
  if (spec_.byte_level_prefix_space && !s.empty() && s[0] != ' ') s.insert(s.begin(), ' ');
  return s;
}

void TokenizerCore::split_metaspace(std::string& text, bool at_start,
                                    std::vector<std::string_view>& pieces) const {
  const std::string& mark = spec_.metaspace_replacement;
  replace_all(text, " ", mark);
  using Scheme = TokenizerSpec::PrependScheme;
  const bool prepend = spec_.metaspace_prepend == Scheme::kAlways ||
                       (spec_.metaspace_prepend == Scheme::kFirst && at_start);
  if (prepend && text.compare(0, mark.size(), mark) != 0) text.insert(0, mark);
  const std::string_view all = text;
  if (!spec_.metaspace_split || mark.empty()) {
    pieces.push_back(all);
    return;
  }
  // MergedWithNext: every piece but the first starts with the mark.
  size_t start = 0;
  for (size_t hit = all.find(mark, 1); hit != std::string_view::npos;
       hit = all.find(mark, hit + mark.size())) {
    if (hit > start) pieces.push_back(all.substr(start, hit - start));
    start = hit;
  }
  if (start < all.size()) pieces.push_back(all.substr(start));
}

void TokenizerCore::encode_plain(std::string_view text, bool at_start,
                                 std::vector<int>& out) const {
  std::string normalized = normalize(text);
  std::vector<std::string_view> pieces, next;
  if (spec_.metaspace) {
    split_metaspace(normalized, at_start, pieces);
  } else {
    pieces.push_back(normalized);
  }
  for (const RegexSplitter& splitter : splitters_) {
    next.clear();
    for (std::string_view p : pieces) splitter.split(p, next);
    pieces.swap(next);
  }
  for (std::string_view p : pieces) bpe_.encode_word(p, out);
}

std::vector<int> TokenizerCore::encode(std::string_view text, bool allow_special) const {
  if (const size_t bad = first_invalid_utf8(text); bad != std::string_view::npos)
    fail("prompt is not valid UTF-8 at byte ", bad);
  std::vector<AddedTokenMatcher::Piece> parts;
  added_.split(text, allow_special, parts);
  std::vector<int> ids;
  ids.reserve(text.size() / 3 + 4);
  for (const auto& part : parts) {
    if (part.id >= 0) {
      ids.push_back(part.id);
    } else {
      encode_plain(part.text, part.text.data() == text.data(), ids);
    }
  }
  return ids;
}

std::string TokenizerCore::first_token_bytes(int id) const {
  if (!spec_.decoder.metaspace_drop_in_first || fallback_byte_[id] >= 0) return token_bytes_[id];
  std::string text = pieces_[id];
  replace_all(text, spec_.decoder.metaspace_replacement, "");
  for (const auto& [from, to] : spec_.decoder.replacements) replace_all(text, from, to);
  return text;
}

std::string TokenizerCore::decode(std::span<const int> ids, bool skip_special) const {
  std::string raw;
  std::string run;  // consecutive <0xXX> bytes: valid UTF-8 as is, else one U+FFFD per byte
  auto flush_run = [&] {
    if (run.empty()) return;
    if (first_invalid_utf8(run) == std::string_view::npos) {
      raw += run;
    } else {
      for (size_t i = 0; i < run.size(); ++i) raw += kReplacementChar;
    }
    run.clear();
  };
  bool first = true;  // first token after skipping: the Metaspace decoder treats it apart
  for (int id : ids) {
    if (id < 0 || id >= vocab_size()) continue;  // no token: HF skips it too
    if (skip_special && special_[id]) continue;
    const bool is_first = first;
    first = false;
    if (fallback_byte_[id] >= 0) {
      run += static_cast<char>(fallback_byte_[id]);
      continue;
    }
    flush_run();
    if (is_first) {
      raw += first_token_bytes(id);
    } else {
      raw += token_bytes_[id];
    }
  }
  flush_run();
  size_t start = 0;
  while (start < raw.size() && static_cast<int>(start) < spec_.decoder.strip_leading_spaces &&
         raw[start] == ' ')
    ++start;
  std::string out;
  out.reserve(raw.size() - start);
  append_lossy(std::string_view(raw).substr(start), out);
  return out;
}

}  // namespace qlm::tok
