// Physical core count from Linux sysfs topology.
#include "base/cpu_info.h"

#include <unistd.h>

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

}  // namespace qlm
