// GPT-2's bytes_to_unicode table: each byte maps to one printable code point, so that
// byte-level BPE vocabularies are plain strings. Printable Latin-1 bytes map to themselves.
#pragma once

#include <array>
#include <string>

namespace qlm::tok {

struct ByteLevelTable {
  std::array<char32_t, 256> byte_to_cp;
  std::array<std::string, 256> byte_to_utf8;  // byte_to_cp as UTF-8

  ByteLevelTable() {
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      byte_to_cp[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
    }
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = byte_to_cp[b];
      std::string& s = byte_to_utf8[b];
      if (cp < 0x80) {
        s += static_cast<char>(cp);
      } else {  // all code points here are < 0x800
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      }
    }
  }
};

inline const ByteLevelTable& byte_level_table() {
  static const ByteLevelTable table;
  return table;
}

}  // namespace qlm::tok
