// UTF-8 classification per Unicode Table 3-7 (well-formed byte sequences) and NFC.
#include "tokenizer/utf8.h"

#include <utf8proc.h>

#include <cstdlib>

#include "base/error.h"

namespace qlm::tok {

Utf8Step utf8_step(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {Utf8Status::kValid, 1};
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // excludes surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {Utf8Status::kInvalid, 1};
  }
  for (size_t k = 1; k < need; ++k) {
    if (i + k >= s.size()) return {Utf8Status::kIncomplete, k};
    const auto b = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return {Utf8Status::kInvalid, k};
  }
  return {Utf8Status::kValid, need};
}

size_t first_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path: most prompts are mostly ASCII.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const Utf8Step step = utf8_step(s, i);
    if (step.status != Utf8Status::kValid) return i;
    i += step.length;
  }
  return std::string_view::npos;
}

void append_lossy(std::string_view s, std::string& out) {
  size_t i = 0, run = 0;  // [run, i) is valid and not yet copied
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const Utf8Step step = utf8_step(s, i);
    if (step.status == Utf8Status::kValid) {
      i += step.length;
      continue;
    }
    out.append(s.substr(run, i - run));
    out.append(kReplacementChar);
    i += step.length;
    run = i;
  }
  out.append(s.substr(run));
}

namespace {
void append_nfc(std::string_view s, std::string& result) {
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
      &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) fail("NFC normalization failed: ", utf8proc_errmsg(n));
  result.append(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
  std::free(out);
}
}  // namespace

// ASCII characters are starters that compose with nothing before them, so NFC never acts
// across one: only runs of non-ASCII text (with the ASCII letter before them, which a
// combining mark may compose with) that contain a character >= U+0300 go to utf8proc.
std::string nfc(std::string_view s) {
  std::string result;
  size_t copied = 0, i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t end = i;
    bool may_change = false;
    while (end < s.size() && static_cast<unsigned char>(s[end]) >= 0x80) {
      may_change |= static_cast<unsigned char>(s[end]) >= 0xCC;  // lead byte of U+0300 and above
      ++end;
    }
    if (may_change) {
      const size_t start = i > copied ? i - 1 : i;  // include the preceding ASCII starter
      result.append(s.substr(copied, start - copied));
      append_nfc(s.substr(start, end - start), result);
      copied = end;
    }
    i = end;
  }
  result.append(s.substr(copied));
  return result;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace qlm::tok
