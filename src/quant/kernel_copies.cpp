// See kernel_copies.h.
#include "quant/kernel_copies.h"

#include "quant/blocked_params.h"
#include "quant/interleaved_codes.h"

namespace qlm {

size_t kernel_copy_bytes(const WeightMatrix& m, bool interleave) {
  size_t bytes = PageArena::slot_bytes(blocked_params_bytes(m));
  if (interleave && has_interleaved_form(m)) bytes += PageArena::slot_bytes(interleaved_codes_bytes(m));
  return bytes;
}

void attach_kernel_copies(WeightMatrix& m, bool interleave, const std::shared_ptr<PageArena>& arena) {
  attach_blocked_params(m, arena);
  if (interleave) attach_interleaved_codes(m, arena);
}

}  // namespace qlm
