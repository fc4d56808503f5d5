// Shared by the fuzz targets. The one exception a parser may throw on bad input is qlm::Error
// (a clear one-line message); anything else that escapes (std::bad_alloc, nlohmann or yaml-cpp
// exceptions, std::out_of_range) is a finding, which libFuzzer reports as a crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/error.h"

namespace qlm::fuzz {

template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const qlm::Error&) {
  }
}

// A property a parser's result must have; a failure aborts, which libFuzzer records as a crash.
#define FUZZ_ASSERT(cond)                                                                    \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

// The input cut at NUL bytes into exactly n parts (missing ones empty, the last takes the rest):
// targets that read several files take them this way.
inline std::vector<std::string> split_parts(const uint8_t* data, size_t size, size_t n) {
  std::vector<std::string> parts(n);
  size_t part = 0;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0 && part + 1 < n) {
      ++part;
      continue;
    }
    parts[part] += static_cast<char>(data[i]);
  }
  return parts;
}

// A file of ../shared/data (QLM_SHARED_DATA overrides the folder); targets that need real
// tokenizers or templates read them at start-up and stop with a message when absent.
inline std::string shared_data(const std::string& relative) {
  const char* env = std::getenv("QLM_SHARED_DATA");
  return std::string(env != nullptr ? env : QLM_SHARED_DATA) + "/" + relative;
}

}  // namespace qlm::fuzz
