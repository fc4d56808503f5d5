// CPU facts for defaults (thread counts).
#pragma once

namespace qlm {

// Distinct (package, core) pairs of the online CPUs; falls back to the logical count.
int physical_cores();

}  // namespace qlm
