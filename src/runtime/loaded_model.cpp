// Loading a model folder with everything around the network.
#include "runtime/loaded_model.h"

#include "base/error.h"
#include "base/timer.h"
#include "quant/format_spelling.h"

namespace qlm {

const Tokenizer& LoadedModel::require_tokenizer(const std::string& feature) const {
  if (!tokenizer) fail(feature, " needs the model's tokenizer, which did not load: ", tokenizer_error);
  return *tokenizer;
}

LoadedModel load_model(const std::string& dir) {
  Timer timer;
  LoadedModel m;
  m.dir = dir;
  m.net = Transformer::load(dir);
  try {
    m.tokenizer = Tokenizer::load(dir);
  } catch (const Error& e) {
    m.tokenizer_error = e.what();
  }
  if (auto source = load_chat_template(dir)) m.chat_template = std::make_unique<ChatTemplate>(*source);
  m.stop_ids = m.net->config().eos_token_ids;
  if (m.stop_ids.empty() && m.tokenizer && m.tokenizer->eos_id()) m.stop_ids = {*m.tokenizer->eos_id()};
  m.load_seconds = timer.seconds();
  return m;
}

void check_expected_quantization(const ModelConfig& cfg, const std::string& expected, const std::string& source) {
  if (expected.empty()) return;
  const std::optional<FormatSpelling> f = parse_format_spelling(expected);
  if (!f) fail(source, ": mlx_quantization '", expected, "' is not a known format (q4_bit, q8_bit, bf16, ...)");
  const int have = cfg.quantization ? cfg.quantization->defaults.bits : 0;
  const int want = f->bits;
  if (want != have)
    fail(source, ": mlx_quantization is '", expected, "' but the model folder is ",
         have ? cat("quantized to ", have, " bits") : std::string("not quantized"));
}

}  // namespace qlm
