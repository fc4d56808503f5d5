// Error type for every failure at an I/O or API boundary: one message that names the file,
// tensor, field or flag at fault and says what was expected. The CLI prints it as one line.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace qlm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Concatenates any streamable values into one string (GCC 12 has no <format>).
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

// Internal invariant: a failure here is a bug in qlm, not bad input.
#define QLM_CHECK(cond)                                                                 \
  do {                                                                                  \
    if (!(cond)) ::qlm::fail("internal error: ", #cond, " (", __FILE__, ":", __LINE__, ")"); \
  } while (0)

}  // namespace qlm
