// Physical core count and cache sizes from Linux sysfs.
#include "base/cpu_info.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace qlm {

int physical_cores() {
  const long logical = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::set<std::pair<int, int>> cores;
  for (long cpu = 0; cpu < logical; ++cpu) {
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream pkg(base + "physical_package_id"), core(base + "core_id");
    int p = 0, c = 0;
    if (!(pkg >> p) || !(core >> c)) return logical > 0 ? static_cast<int>(logical) : 1;
    cores.insert({p, c});
  }
  return cores.empty() ? 1 : static_cast<int>(cores.size());
}

long long last_level_cache_bytes() {
  long long largest = 0;
  for (int index = 0; index < 16; ++index) {
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
    long long size = 0;
    std::string unit;
    if (!(in >> size)) continue;
    in >> unit;  // "K" or "M" follows the number ("266240K")
    if (!unit.empty() && unit[0] == 'K') size <<= 10;
    if (!unit.empty() && unit[0] == 'M') size <<= 20;
    largest = std::max(largest, size);
  }
  return largest;
}

}  // namespace qlm
