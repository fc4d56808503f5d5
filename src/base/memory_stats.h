// Resident memory of this process (Linux /proc/self/status; 0 where unavailable).
#pragma once

#include <cstdint>

namespace qlm {

uint64_t peak_rss_bytes();     // VmHWM
uint64_t current_rss_bytes();  // VmRSS
void reset_peak_rss();          // VmHWM := VmRSS (Linux clear_refs 5), to measure one phase
uint64_t available_memory_bytes();  // MemAvailable of /proc/meminfo (0 where unavailable)

}  // namespace qlm
