// AMX availability: CPUID leaf 7 (EDX bit 24 AMX-TILE, bit 25 AMX-INT8) and the Linux
// permission to use the tile data state, requested once per process (Linux ≥ 5.16).
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernels/amx/amx.h"

namespace qlm::amx {

namespace {
constexpr int kArchReqXcompPerm = 0x1023;
constexpr int kXfeatureXtiledata = 18;

bool detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  if (!(d & (1u << 24)) || !(d & (1u << 25))) return false;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bw")) return false;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}
}  // namespace

bool available() {
  static const bool ok = detect();
  return ok;
}

}  // namespace qlm::amx
