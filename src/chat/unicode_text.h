// Code-point level text operations with Python's semantics: str.isspace, upper/lower/title/
// capitalize (simple case mappings from the C library's Unicode tables).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qlm::chat {

std::vector<uint32_t> decode_utf8(const std::string& s);
std::string encode_utf8(const std::vector<uint32_t>& cps);
void append_utf8(uint32_t cp, std::string& out);

// Python's str.isspace for one code point.
bool is_py_space(uint32_t cp);
// Python's str.isprintable for one code point (repr escapes the rest), from the general
// categories Cc, Cf, Co, Zl, Zp and Zs; unassigned code points count as printable here.
bool is_py_printable(uint32_t cp);

// Python's str.upper/lower/title/capitalize. Code points whose Python mapping is not one code
// point to one code point (ß -> SS, final sigma, ligatures) throw instead of differing silently.
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_title(const std::string& s);
std::string py_capitalize(const std::string& s);

}  // namespace qlm::chat
