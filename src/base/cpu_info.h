// CPU facts for defaults (thread counts) and for reading benchmarks (cache sizes).
#pragma once

namespace qlm {

// Distinct (package, core) pairs of the online CPUs; falls back to the logical count.
int physical_cores();

// Largest cache cpu0 reports in sysfs, in bytes (the last level); 0 when unknown.
long long last_level_cache_bytes();

}  // namespace qlm
