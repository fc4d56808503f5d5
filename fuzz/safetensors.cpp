// Fuzz target: a whole safetensors file (header length, JSON header, data section).
#include "io/safetensors.h"

#include <cstring>

#include "fuzz_util.h"
#include "io/dtype.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "fuzz.safetensors";
  qlm::fuzz::expect_clean([&] {
    qlm::SafetensorsContents c = qlm::parse_safetensors(data, size, path);
    // Every view must lie inside the input and match its dtype and shape; reading each byte
    // lets ASan catch a view that does not.
    unsigned acc = 0;
    for (const qlm::TensorView& t : c.tensors) {
      FUZZ_ASSERT(t.data >= data && t.data + t.nbytes <= data + size);
      FUZZ_ASSERT(static_cast<uint64_t>(t.numel()) * qlm::dtype_size(t.dtype) == t.nbytes);
      for (size_t i = 0; i < t.nbytes; ++i) acc += t.data[i];
    }
    volatile unsigned sink = acc;
    (void)sink;
  });
  return 0;
}
