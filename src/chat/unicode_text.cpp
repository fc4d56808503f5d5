// Unicode helpers for Python string semantics. Case mapping uses glibc's towupper_l/towlower_l
// on a private C.UTF-8 locale object (no global setlocale); without that locale, non-ASCII case
// mapping throws.
#include "chat/unicode_text.h"

#include <locale.h>
#include <wctype.h>

#include "base/error.h"

namespace qlm::chat {
namespace {

locale_t utf8_locale() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return loc;
}

uint32_t simple_upper(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  locale_t loc = utf8_locale();
  if (!loc) fail("chat template: upper() of non-ASCII text needs the C.UTF-8 locale");
  return static_cast<uint32_t>(towupper_l(static_cast<wint_t>(cp), loc));
}

uint32_t simple_lower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  locale_t loc = utf8_locale();
  if (!loc) fail("chat template: lower() of non-ASCII text needs the C.UTF-8 locale");
  return static_cast<uint32_t>(towlower_l(static_cast<wint_t>(cp), loc));
}

bool is_cased(uint32_t cp) {
  return simple_upper(cp) != cp || simple_lower(cp) != cp;
}

// SpecialCasing.txt entries where Python maps one code point to several (upper/title case).
bool has_special_upper(uint32_t cp) {
  return cp == 0xDF || cp == 0x149 || cp == 0x1F0 || cp == 0x390 || cp == 0x3B0 || cp == 0x587 ||
         (cp >= 0x1E96 && cp <= 0x1E9A) || (cp >= 0x1F50 && cp <= 0x1FFF) ||
         (cp >= 0xFB00 && cp <= 0xFB17);
}

// İ lowers to i + combining dot; Σ lowers to ς at the end of a word (Final_Sigma).
bool has_special_lower(uint32_t cp) {
  return cp == 0x130 || cp == 0x3A3;
}

uint32_t checked_upper(uint32_t cp) {
  if (has_special_upper(cp))
    fail("chat template: unsupported construct 'upper/title case of U+", std::hex, cp, "'");
  return simple_upper(cp);
}

uint32_t checked_lower(uint32_t cp) {
  if (has_special_lower(cp))
    fail("chat template: unsupported construct 'lower case of U+", std::hex, cp, "'");
  return simple_lower(cp);
}

}  // namespace

std::vector<uint32_t> decode_utf8(const std::string& s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) fail("chat template: invalid UTF-8 in a string");
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) fail("chat template: invalid UTF-8 in a string");
      cp = (cp << 6) | (cc & 0x3f);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::string encode_utf8(const std::vector<uint32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (uint32_t cp : cps) append_utf8(cp, out);
  return out;
}

bool is_py_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

bool is_py_printable(uint32_t cp) {
  if (cp == ' ') return true;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad) return false;  // Cc, NBSP, soft hyphen
  if (is_py_space(cp)) return false;                                        // Zs, Zl, Zp
  static const uint32_t kFormat[][2] = {
      // Cf ranges
      {0x600, 0x605},     {0x61c, 0x61c},     {0x6dd, 0x6dd},     {0x70f, 0x70f},
      {0x890, 0x891},     {0x8e2, 0x8e2},     {0x180e, 0x180e},   {0x200b, 0x200f},
      {0x202a, 0x202e},   {0x2060, 0x2064},   {0x2066, 0x206f},   {0xfeff, 0xfeff},
      {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f},
      {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f}};
  for (const auto& r : kFormat)
    if (cp >= r[0] && cp <= r[1]) return false;
  if ((cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000) return false;  // Co (private use)
  return true;
}

std::string py_upper(const std::string& s) {
  std::vector<uint32_t> cps = decode_utf8(s);
  for (uint32_t& cp : cps) cp = checked_upper(cp);
  return encode_utf8(cps);
}

std::string py_lower(const std::string& s) {
  std::vector<uint32_t> cps = decode_utf8(s);
  for (uint32_t& cp : cps) cp = checked_lower(cp);
  return encode_utf8(cps);
}

std::string py_title(const std::string& s) {
  std::vector<uint32_t> cps = decode_utf8(s);
  bool previous_cased = false;
  for (uint32_t& cp : cps) {
    cp = previous_cased ? checked_lower(cp) : checked_upper(cp);
    previous_cased = is_cased(cp);
  }
  return encode_utf8(cps);
}

std::string py_capitalize(const std::string& s) {
  std::vector<uint32_t> cps = decode_utf8(s);
  for (size_t i = 0; i < cps.size(); ++i)
    cps[i] = i == 0 ? checked_upper(cps[i]) : checked_lower(cps[i]);
  return encode_utf8(cps);
}

}  // namespace qlm::chat
