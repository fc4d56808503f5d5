// Fuzz target: an HTTP request body of `qlm serve` -> the generation or score parameters, as the
// server maps it (parse_body, then parse_generation for /v1/completions and
// /v1/chat/completions, or parse_score for /v1/score). Byte 0 picks the endpoint; the rest is
// the body. The model is shakespeare-qwen2 (its config bounds ids and context) with the
// Qwen2.5 tokenizer and chat template, so text and messages go through the real encoders.
// A rejected body must be an ApiError whose JSON body serialises; an accepted one must respect
// every limit the parser promises.
#include <memory>

#include "fuzz_util.h"
#include "runtime/loaded_model.h"
#include "serve/api_error.h"
#include "serve/openai_request.h"
#include "tokenizer/tokenizer.h"

namespace {
qlm::LoadedModel model;
const qlm::serve::RequestLimits limits;

bool ids_in_vocab(const std::vector<int>& ids, int vocab) {
  for (int id : ids)
    if (id < 0 || id >= vocab) return false;
  return true;
}

void check_generation(const qlm::serve::GenerationCall& c) {
  const qlm::ModelConfig& cfg = model.net->config();
  FUZZ_ASSERT(!c.prompts.empty());
  FUZZ_ASSERT(static_cast<int>(c.prompts.size()) <= limits.max_prompts);
  FUZZ_ASSERT(c.n >= 1 && c.n <= limits.max_n);
  const int budget = c.params.max_new_tokens;
  FUZZ_ASSERT(budget >= 1);
  for (const auto& p : c.prompts)
    FUZZ_ASSERT(static_cast<int64_t>(p.size()) + budget <= cfg.max_position_embeddings);
  const qlm::SamplingParams& s = c.params.sampling;
  FUZZ_ASSERT(s.temperature >= 0 && s.temperature <= 2);
  FUZZ_ASSERT(s.top_p > 0 && s.top_p <= 1);
  FUZZ_ASSERT(s.top_k >= 0 && s.top_k <= cfg.vocab_size);
  FUZZ_ASSERT(s.min_p >= 0 && s.min_p < 1);
  FUZZ_ASSERT(s.repetition_penalty > 0);
  FUZZ_ASSERT(static_cast<int>(c.stop.size()) <= limits.max_stop_strings);
  for (const std::string& x : c.stop) FUZZ_ASSERT(!x.empty());
  FUZZ_ASSERT(c.params.top_logprobs >= 0 && c.params.top_logprobs <= limits.max_top_logprobs);
  FUZZ_ASSERT(ids_in_vocab(c.params.stop_ids, cfg.vocab_size));
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  try {
    model = qlm::load_model(qlm::fuzz::shared_data("models/shakespeare-qwen2"));
    const std::string dir = qlm::fuzz::shared_data("tokenizers/qwen2.5");
    model.tokenizer = qlm::Tokenizer::load(dir);
    model.chat_template =
        std::make_unique<qlm::ChatTemplate>(qlm::load_chat_template(dir).value());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_openai_request needs ../shared/data (or QLM_SHARED_DATA): %s\n",
                 e.what());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int endpoint = data[0] % 3;  // completions, chat completions, score
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const qlm::serve::ojson body = qlm::serve::parse_body(text);
    if (endpoint == 2) {
      const qlm::serve::ScoreCall s = qlm::serve::parse_score(body, model, 8);
      const int ctx = model.net->config().max_position_embeddings;
      FUZZ_ASSERT(!s.completions.empty() && s.completions.size() <= 9);  // "completion" + 8
      for (const auto& c : s.completions)
        FUZZ_ASSERT(!c.empty() && static_cast<int>(s.prompt.size() + c.size()) <= ctx);
    } else {
      check_generation(qlm::serve::parse_generation(body, endpoint == 1, model, limits));
    }
  } catch (const qlm::serve::ApiError& e) {
    FUZZ_ASSERT(e.status() >= 400 && e.status() < 600);
    FUZZ_ASSERT(!qlm::serve::to_json_text(e.body()).empty());  // what the client receives
  } catch (const qlm::Error&) {  // the server answers these with 400 too
  }
  // Anything else escaping (nlohmann, std::out_of_range, bad_alloc) is a crash: the server
  // would answer 500 for a client's mistake.
  return 0;
}
