// Shared helpers of the sampler tests: the Python reference's goldens and its hashed logits.
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "sampler/sampler.h"

namespace qlm::test {

inline const nlohmann::json& golden() {
  static const nlohmann::json g = [] {
    std::ifstream in(QLM_SAMPLER_GOLDEN);
    return nlohmann::json::parse(in);
  }();
  return g;
}

inline SamplingParams params_from_json(const nlohmann::json& j) {
  return SamplingParams{.temperature = j["temperature"].get<float>(),
                        .top_k = j["top_k"].get<int>(),
                        .top_p = j["top_p"].get<float>(),
                        .min_p = j["min_p"].get<float>(),
                        .repetition_penalty = j["repetition_penalty"].get<float>(),
                        .presence_penalty = j["presence_penalty"].get<float>(),
                        .frequency_penalty = j["frequency_penalty"].get<float>(),
                        .seed = j["seed"].get<uint64_t>()};
}

// Same integer hash and float32 operations as hashed_logits() in sampler_reference.py.
inline std::vector<float> hashed_logits(int vocab, uint64_t seed, float scale) {
  std::vector<float> out(vocab);
  for (int i = 0; i < vocab; ++i) {
    const uint64_t h = (uint64_t(i) * 2654435761ull + seed) & 0xFFFFFFFFull;
    const float u = float(h >> 8) * 0x1.0p-24f;
    out[i] = (u - 0.5f) * scale;
  }
  return out;
}

}  // namespace qlm::test
