// ISA selection: the best table this CPU runs, unless QLM_ISA names one.
#include "kernels/kernel_table.h"

#include <cstdlib>

#include "base/error.h"

namespace qlm {

namespace {
const KernelTable kRefTable{.isa = "ref", .matmul = ref::matmul};

const KernelTable& choose() {
  const char* forced = std::getenv("QLM_ISA");
  if (forced != nullptr && *forced != '\0') {
    const KernelTable* t = kernel_table_for(forced);
    if (t == nullptr) fail("QLM_ISA=", forced, ": unknown or unsupported on this CPU (try ref)");
    return *t;
  }
  return kRefTable;
}
}  // namespace

const KernelTable* kernel_table_for(const std::string& isa) {
  if (isa == "ref") return &kRefTable;
  return nullptr;
}

const KernelTable& kernels() {
  static const KernelTable& table = choose();
  return table;
}

}  // namespace qlm
