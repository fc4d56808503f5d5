// PCRE2 wrapper for the Split pre-tokenizer. \p{L}, \p{N} and \s follow Unicode with UCP.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex_split.h"

#include <pcre2.h>

#include "base/error.h"
#include "tokenizer/utf8.h"

namespace qlm::tok {

namespace {
std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

// Match data is per thread so one compiled splitter can serve concurrent encodes.
struct MatchData {
  pcre2_match_data* data = pcre2_match_data_create(4, nullptr);
  ~MatchData() { pcre2_match_data_free(data); }
};
}  // namespace

RegexSplitter::RegexSplitter(const std::string& pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                        PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
  if (code_ == nullptr)
    fail("pre-tokenizer regex does not compile at offset ", offset, ": ", pcre2_message(error),
         " (pattern: ", pattern, ")");
  pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // optional: falls back to the interpreter
}

RegexSplitter::~RegexSplitter() {
  pcre2_code_free(code_);
}

RegexSplitter::RegexSplitter(RegexSplitter&& other) noexcept : code_(other.code_) {
  other.code_ = nullptr;
}

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& out) const {
  thread_local MatchData match;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0, last = 0;
  while (pos < text.size()) {
    const int rc =
        pcre2_match(code_, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, match.data, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("pre-tokenizer regex failed: ", pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
    const size_t start = ovector[0], end = ovector[1];
    if (end == start) {  // empty match: HF skips it; step one character
      if (start >= text.size()) break;
      pos = start + utf8_step(text, start).length;
      continue;
    }
    if (start > last) out.push_back(text.substr(last, start - last));
    out.push_back(text.substr(start, end - start));
    last = pos = end;
  }
  if (last < text.size()) out.push_back(text.substr(last));
}

}  // namespace qlm::tok
