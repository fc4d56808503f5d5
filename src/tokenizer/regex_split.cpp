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

// A tokenizer.json from the internet can carry a pattern that backtracks exponentially (say
// "(a+)+$"). The real split patterns need a few dozen steps per piece; a million per piece
// is generous for them and stops a hostile pattern in milliseconds with an error.
constexpr uint32_t kMatchLimit = 1'000'000;
constexpr uint32_t kDepthLimit = 10'000;  // backtracking frames (the interpreter's heap use)

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
  context_ = pcre2_match_context_create(nullptr);
  if (context_ == nullptr) fail("pre-tokenizer regex: out of memory");
  pcre2_set_match_limit(context_, kMatchLimit);  // honoured by the JIT too
  pcre2_set_depth_limit(context_, kDepthLimit);
  pattern_ = pattern;
}

RegexSplitter::~RegexSplitter() {
  pcre2_code_free(code_);
  pcre2_match_context_free(context_);
}

RegexSplitter::RegexSplitter(RegexSplitter&& other) noexcept
    : code_(other.code_), context_(other.context_), pattern_(std::move(other.pattern_)) {
  other.code_ = nullptr;
  other.context_ = nullptr;
}

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& out) const {
  thread_local MatchData match;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0, last = 0;
  while (pos < text.size()) {
    const int rc =
        pcre2_match(code_, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, match.data, context_);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
      fail("pre-tokenizer regex gave up at byte ", pos, " of the text: ", pcre2_message(rc),
           " (the pattern backtracks too much: ", pattern_, ")");
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
