// A model folder ready to use: the network, its tokenizer and chat template when the folder
// has them, and the stop ids. Every command and the Python module load models through here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace qlm {

struct LoadedModel {
  std::string dir;
  std::unique_ptr<Transformer> net;
  std::unique_ptr<Tokenizer> tokenizer;        // null when the folder has none
  std::string tokenizer_error;                 // why it is null
  std::unique_ptr<ChatTemplate> chat_template;  // null when the folder has none
  std::vector<int> stop_ids;                   // generation_config / config EOS, else the tokenizer's
  double load_seconds = 0;

  // The tokenizer, or an Error saying which feature needs it and why it is missing.
  const Tokenizer& require_tokenizer(const std::string& feature) const;
};

LoadedModel load_model(const std::string& dir);

// Checks the folder's quantization against an expected spelling (the seed workflow's
// hardware.mlx_quantization: "q4_bit", "q8_bit", "q4", "bf16", "none", ...).
void check_expected_quantization(const ModelConfig& cfg, const std::string& expected, const std::string& source);

}  // namespace qlm
