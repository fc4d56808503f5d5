// The `qlm` Python module: qlm.Model, qlm.Error (a ValueError carrying qlm's own message) and
// qlm.kernel_isa().
#include <pybind11/pybind11.h>

#include "base/error.h"
#include "kernels/kernel_table.h"
#include "py_model.h"

namespace py = pybind11;

PYBIND11_MODULE(qlm, mod) {
  mod.doc() = "qlm: CPU inference for quantized LLMs (generation, scoring and weight sync for RL)";
  py::register_exception<qlm::Error>(mod, "Error", PyExc_ValueError);
  mod.def(
      "kernel_isa", [] { return qlm::kernels().isa; },
      "The kernel set this process uses ('ref', 'avx2', 'avx512', 'amx'). The first call (or the "
      "first forward pass) decides, reading QLM_ISA then.");
  qlm::py_binding::bind_model(mod);
}
