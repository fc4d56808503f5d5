// Split pre-tokenizer with "Isolated" behaviour: every regex match and every gap between
// matches becomes its own piece. PCRE2 in UTF + UCP mode, JIT-compiled when available.
#pragma once

#include <string>
#include <string_view>
#include <vector>

struct pcre2_real_code_8;
struct pcre2_real_match_context_8;

namespace qlm::tok {

class RegexSplitter {
 public:
  explicit RegexSplitter(const std::string& pattern);  // throws qlm::Error on a bad pattern
  ~RegexSplitter();
  RegexSplitter(RegexSplitter&& other) noexcept;
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Appends the pieces of text (valid UTF-8) to out, in order; they concatenate to text.
  void split(std::string_view text, std::vector<std::string_view>& out) const;

 private:
  pcre2_real_code_8* code_ = nullptr;
  pcre2_real_match_context_8* context_ = nullptr;  // the match and depth limits
  std::string pattern_;                            // for error messages
};

}  // namespace qlm::tok
