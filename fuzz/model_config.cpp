// Fuzz target: config.json, then generation_config.json (input split at the first NUL byte).
#include "io/model_config.h"

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = qlm::fuzz::split_parts(data, size, 2);
  qlm::fuzz::expect_clean([&] {
    qlm::ModelConfig c = qlm::parse_model_config(parts[0], "config.json");
    // The loader sizes tensors from these: every derived size must be positive and not overflow.
    FUZZ_ASSERT(c.hidden_size > 0 && c.num_layers > 0 && c.vocab_size > 0 && c.head_dim > 0);
    FUZZ_ASSERT(c.q_dim() > 0 && c.kv_dim() > 0);
    FUZZ_ASSERT(static_cast<int64_t>(c.vocab_size) * c.hidden_size > 0);
    qlm::apply_generation_config(c, parts[1], "generation_config.json");
  });
  return 0;
}
