// The optimised kernel tables this machine runs (the reference is what they are tested against).
#pragma once

#include <string>
#include <vector>

#include "kernels/kernel_table.h"

namespace qlm {

inline std::vector<std::string> available_isas() {
  std::vector<std::string> out;
  for (const char* isa : {"avx2", "avx512", "amx"})
    if (kernel_table_for(isa) != nullptr) out.push_back(isa);
  return out;
}

}  // namespace qlm
