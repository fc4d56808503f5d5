// /proc/self/status readers.
#include "base/memory_stats.h"

#include <cstdio>
#include <cstring>

namespace qlm {

namespace {
uint64_t status_kb(const char* key, const char* file = "/proc/self/status") {
  FILE* f = std::fopen(file, "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kb = 0;
  const size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::strncmp(line, key, n) == 0) {
      std::sscanf(line + n, " %lu", &kb);
      break;
    }
  std::fclose(f);
  return kb * 1024;
}
}  // namespace

uint64_t peak_rss_bytes() { return status_kb("VmHWM:"); }
uint64_t current_rss_bytes() { return status_kb("VmRSS:"); }
uint64_t available_memory_bytes() { return status_kb("MemAvailable:", "/proc/meminfo"); }

void reset_peak_rss() {
  if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
}

}  // namespace qlm
