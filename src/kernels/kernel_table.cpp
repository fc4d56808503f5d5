// ISA selection: the best table this CPU runs, unless QLM_ISA names one. Detection happens at
// run time, so the binary runs on any x86-64 (and the reference builds anywhere).
#include "kernels/kernel_table.h"

#include <cstdlib>

#include "base/error.h"

#ifdef QLM_HAVE_X86_KERNELS
#include "kernels/amx/amx.h"
#include "kernels/avx2/avx2.h"
#include "kernels/avx512/avx512.h"
#endif

namespace qlm {

namespace {
const KernelTable kRefTable{.isa = "ref", .matmul = ref::matmul, .matmul_multi = ref::matmul_multi, .attend = ref::attend, .silu_mul = ref::silu_mul};

#ifdef QLM_HAVE_X86_KERNELS
// AVX2 machines (no AVX-512): int8 matmuls bit-identical to the AVX-512 table's, float FMA.
const KernelTable kAvx2Table{.isa = "avx2", .matmul = avx2::matmul, .matmul_multi = avx2::matmul_multi, .attend = avx2::attend, .silu_mul = avx2::silu_mul,
    .reads_interleaved_codes = true};
const KernelTable kAvx512Table{
    .isa = "avx512", .matmul = avx512::matmul, .matmul_multi = avx512::matmul_multi, .attend = avx512::attend, .silu_mul = avx512::silu_mul,
    .reads_interleaved_codes = true};
const KernelTable kAmxTable{.isa = "amx", .matmul = amx::matmul, .matmul_multi = amx::matmul_multi, .attend = avx512::attend, .silu_mul = avx512::silu_mul};

bool cpu_has_avx512_vnni() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("fma");
}
#endif

const KernelTable& choose() {
  const char* forced = std::getenv("QLM_ISA");
  if (forced != nullptr && *forced != '\0') {
    const KernelTable* t = kernel_table_for(forced);
    if (t == nullptr) fail("QLM_ISA=", forced, ": unknown or unsupported on this CPU (try ref)");
    return *t;
  }
  for (const char* isa : {"amx", "avx512", "avx2"})
    if (const KernelTable* t = kernel_table_for(isa)) return *t;
  return kRefTable;
}
}  // namespace

const KernelTable* kernel_table_for(const std::string& isa) {
  if (isa == "ref") return &kRefTable;
#ifdef QLM_HAVE_X86_KERNELS
  if (isa == "avx2") return avx2::cpu_supported() ? &kAvx2Table : nullptr;
  if (isa == "avx512") return cpu_has_avx512_vnni() ? &kAvx512Table : nullptr;
  if (isa == "amx") return cpu_has_avx512_vnni() && amx::available() ? &kAmxTable : nullptr;
#endif
  return nullptr;
}

const KernelTable& kernels() {
  static const KernelTable& table = choose();
  return table;
}

}  // namespace qlm
