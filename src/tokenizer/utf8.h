// UTF-8 helpers for the tokenizer: validation, lossy conversion with Rust's
// from_utf8_lossy rules (what Hugging Face decode uses) and NFC via utf8proc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace qlm::tok {

enum class Utf8Status { kValid, kIncomplete, kInvalid };

// Classifies the sequence starting at s[i]. length: bytes of the character (kValid), of the
// maximal invalid subpart, which Rust replaces by one U+FFFD (kInvalid), or available
// (kIncomplete).
struct Utf8Step {
  Utf8Status status;
  size_t length;
};
Utf8Step utf8_step(std::string_view s, size_t i);

// Offset of the first byte that does not start a complete valid character, or npos.
size_t first_invalid_utf8(std::string_view s);

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

// Appends s to out, replacing each maximal invalid subpart with U+FFFD.
void append_lossy(std::string_view s, std::string& out);

// Unicode NFC of valid UTF-8. Text with no character >= U+0300 is returned unchanged
// without calling utf8proc (no composition involves only characters below U+0300).
std::string nfc(std::string_view s);

// Encodes one code point as UTF-8.
void append_utf8(char32_t cp, std::string& out);

}  // namespace qlm::tok
