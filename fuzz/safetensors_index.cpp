// Fuzz target: model.safetensors.index.json (weight_map of a sharded checkpoint).
#include "fuzz_util.h"
#include "io/tensor_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  qlm::fuzz::expect_clean([&] {
    for (const auto& [tensor, file] :
         qlm::parse_weight_index(text, "model.safetensors.index.json")) {
      // A file name that could leave the model folder must have been refused.
      FUZZ_ASSERT(!file.empty() && file != "." && file != ".." &&
                  file.find('/') == std::string::npos);
    }
  });
  return 0;
}
