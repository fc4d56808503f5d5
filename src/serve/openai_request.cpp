// Request parsing: typed field readers whose errors name the field, then the two schemas.
#include "serve/openai_request.h"

#include <cmath>
#include <random>

#include "base/error.h"
#include "runtime/prompt.h"

namespace qlm::serve {

namespace {

// The field, or null when absent or JSON null (OpenAI clients send explicit nulls for defaults).
const ojson* field(const ojson& b, const char* key) {
  auto it = b.find(key);
  return it == b.end() || it->is_null() ? nullptr : &*it;
}

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(400, message, param);
}

double number(const ojson& b, const char* key, double def, double lo, double hi,
              bool lo_open = false) {
  const ojson* v = field(b, key);
  if (!v) return def;
  if (!v->is_number()) bad(key, cat("'", key, "' must be a number"));
  const double x = v->get<double>();
  if (!(lo_open ? x > lo : x >= lo) || !(x <= hi) || !std::isfinite(x))
    bad(key,
        cat("'", key, "' must be in ", lo_open ? "(" : "[", lo, ", ", hi, "], got ", v->dump()));
  return x;
}

int64_t integer(const ojson& b, const char* key, int64_t def, int64_t lo, int64_t hi) {
  const ojson* v = field(b, key);
  if (!v) return def;
  if (!v->is_number_integer()) bad(key, cat("'", key, "' must be an integer"));
  // Unsigned values past int64 range wrap negative in get<int64_t>: check the sign first.
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    bad(key, cat("'", key, "' must be in [", lo, ", ", hi, "], got ", v->dump()));
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi) bad(key, cat("'", key, "' must be in [", lo, ", ", hi, "], got ", x));
  return x;
}

bool boolean(const ojson& b, const char* key, bool def) {
  const ojson* v = field(b, key);
  if (!v) return def;
  if (!v->is_boolean()) bad(key, cat("'", key, "' must be true or false"));
  return v->get<bool>();
}

std::vector<int> id_list(const ojson& v, const std::string& param, int vocab) {
  std::vector<int> ids;
  for (const ojson& x : v) {
    if (!x.is_number_integer())
      bad(param, cat("'", param, "' must be a string or a list of token ids"));
    const bool outside = x.is_number_unsigned() ? x.get<uint64_t>() >= static_cast<uint64_t>(vocab)
                                                : x.get<int64_t>() < 0 || x.get<int64_t>() >= vocab;
    if (outside)
      bad(param,
          cat("'", param, "': token id ", x.dump(), " is outside the vocabulary [0, ", vocab, ")"));
    ids.push_back(static_cast<int>(x.get<int64_t>()));
  }
  return ids;
}

std::vector<int> encode_text(const LoadedModel& m, const std::string& text,
                             const std::string& param) {
  if (!m.tokenizer)
    bad(param, cat("'", param, "': this model has no tokenizer (", m.tokenizer_error,
                   "); send token ids"));
  std::vector<int> ids;
  try {
    ids = build_prompt(m, PromptSpec{.text = text});
  } catch (const Error& e) {
    bad(param, cat("'", param, "': ", e.what()));
  }
  if (ids.empty()) bad(param, cat("'", param, "' is empty (and this tokenizer adds no BOS)"));
  return ids;
}

// A text or ids prompt/completion: "abc" or [1, 2, 3].
std::vector<int> text_or_ids(const LoadedModel& m, const ojson& v, const std::string& param) {
  if (v.is_string()) return encode_text(m, v.get<std::string>(), param);
  if (v.is_array()) {
    std::vector<int> ids = id_list(v, param, m.net->config().vocab_size);
    if (ids.empty()) bad(param, cat("'", param, "' is empty"));
    return ids;
  }
  bad(param, cat("'", param, "' must be a string or a list of token ids"));
}

std::vector<std::vector<int>> completion_prompts(const ojson& b, const LoadedModel& m,
                                                 const RequestLimits& limits) {
  const ojson* p = field(b, "prompt");
  if (!p) bad("prompt", "'prompt' is required");
  if (p->is_string()) return {encode_text(m, p->get<std::string>(), "prompt")};
  if (!p->is_array()) bad("prompt", "'prompt' must be a string, a list of strings, or token ids");
  if (p->empty()) bad("prompt", "'prompt' is empty");
  if ((*p)[0].is_number()) return {text_or_ids(m, *p, "prompt")};
  if (static_cast<int>(p->size()) > limits.max_prompts)
    bad("prompt",
        cat("'prompt' has ", p->size(), " prompts; at most ", limits.max_prompts, " per request"));
  std::vector<std::vector<int>> out;
  for (const ojson& x : *p) {
    if (!x.is_string() && !x.is_array())
      bad("prompt", "'prompt' must be a string, a list of strings, or token ids");
    out.push_back(text_or_ids(m, x, "prompt"));
  }
  return out;
}

std::vector<int> chat_prompt(const ojson& b, const LoadedModel& m) {
  const ojson* msgs = field(b, "messages");
  if (!msgs) bad("messages", "'messages' is required");
  if (!msgs->is_array() || msgs->empty())
    bad("messages", "'messages' must be a non-empty list of {role, content}");
  if (!m.chat_template) bad("messages", "this model has no chat template; use /v1/completions");
  ojson clean = ojson::array();
  for (size_t i = 0; i < msgs->size(); ++i) {
    const ojson& x = (*msgs)[i];
    const std::string where = cat("messages[", i, "]");
    if (!x.is_object()) bad("messages", cat("'", where, "' must be an object {role, content}"));
    const ojson* role = field(x, "role");
    if (!role || !role->is_string()) bad("messages", cat("'", where, ".role' must be a string"));
    std::string content;
    const ojson* c = field(x, "content");
    if (c && c->is_string()) {
      content = c->get<std::string>();
    } else if (c && c->is_array()) {  // content parts: only text parts are supported
      for (const ojson& part : *c) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
            !part["text"].is_string())
          bad("messages",
              cat("'", where,
                  ".content': only {\"type\": \"text\", \"text\": ...} parts are supported"));
        content += part["text"].get<std::string>();
      }
    } else if (c) {
      bad("messages", cat("'", where, ".content' must be a string or a list of text parts"));
    }
    clean.push_back({{"role", role->get<std::string>()}, {"content", content}});
  }
  if (!m.tokenizer) bad("messages", cat("this model has no tokenizer (", m.tokenizer_error, ")"));
  try {
    return build_prompt(m, PromptSpec{.messages = clean, .chat = true});
  } catch (const Error& e) {
    bad("messages", cat("'messages': the chat template failed: ", e.what()));
  }
}

std::vector<std::string> stop_strings(const ojson& b, const RequestLimits& limits) {
  const ojson* s = field(b, "stop");
  if (!s) return {};
  std::vector<std::string> out;
  if (s->is_string()) {
    out.push_back(s->get<std::string>());
  } else if (s->is_array()) {
    for (const ojson& x : *s) {
      if (!x.is_string()) bad("stop", "'stop' must be a string or a list of strings");
      out.push_back(x.get<std::string>());
    }
  } else {
    bad("stop", "'stop' must be a string or a list of strings");
  }
  if (static_cast<int>(out.size()) > limits.max_stop_strings)
    bad("stop", cat("'stop' has ", out.size(), " strings; at most ", limits.max_stop_strings));
  for (const std::string& x : out)
    if (x.empty()) bad("stop", "'stop' strings must not be empty");
  return out;
}

}  // namespace

ojson parse_body(const std::string& text) {
  ojson j = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw ApiError(400, "the request body is not valid JSON", "", "invalid_json");
  if (!j.is_object())
    throw ApiError(400, "the request body must be a JSON object", "", "invalid_json");
  return j;
}

GenerationCall parse_generation(const ojson& b, bool chat, const LoadedModel& m,
                                const RequestLimits& limits) {
  const ModelConfig& cfg = m.net->config();
  GenerationCall c;
  c.chat = chat;
  if (const ojson* model = field(b, "model")) {
    if (!model->is_string()) bad("model", "'model' must be a string");
    c.model = model->get<std::string>();
  }
  c.prompts =
      chat ? std::vector<std::vector<int>>{chat_prompt(b, m)} : completion_prompts(b, m, limits);
  c.n = static_cast<int>(integer(b, "n", 1, 1, limits.max_n));

  SamplingParams& s = c.params.sampling;
  s.temperature = static_cast<float>(number(b, "temperature", 1.0, 0.0, 2.0));
  s.top_p = static_cast<float>(number(b, "top_p", 1.0, 0.0, 1.0, /*lo_open=*/true));
  const int64_t top_k = integer(b, "top_k", 0, -1, cfg.vocab_size);
  s.top_k = top_k < 0 ? 0 : static_cast<int>(top_k);  // vLLM spells "off" as -1
  s.min_p = static_cast<float>(number(b, "min_p", 0.0, 0.0, 0.999999));
  s.presence_penalty = static_cast<float>(number(b, "presence_penalty", 0.0, -2.0, 2.0));
  s.frequency_penalty = static_cast<float>(number(b, "frequency_penalty", 0.0, -2.0, 2.0));
  s.repetition_penalty =
      static_cast<float>(number(b, "repetition_penalty", 1.0, 0.0, 100.0, /*lo_open=*/true));
  if (field(b, "seed")) {
    s.seed = static_cast<uint64_t>(integer(b, "seed", 0, INT64_MIN, INT64_MAX));
  } else {  // OpenAI semantics: unseeded requests differ from call to call
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    s.seed = rng();
  }

  // Token budget: checked against the longest prompt's room in the context.
  size_t longest = 0;
  for (const auto& p : c.prompts) longest = std::max(longest, p.size());
  const int room = cfg.max_position_embeddings - static_cast<int>(longest);
  if (room < 1)
    throw ApiError(400,
                   cat("the prompt has ", longest, " tokens; this model's context is ",
                       cfg.max_position_embeddings, " tokens, leaving no room for a completion"),
                   chat ? "messages" : "prompt", "context_length_exceeded");
  const char* budget_key =
      chat && field(b, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  if (field(b, budget_key)) {
    c.params.max_new_tokens = static_cast<int>(integer(b, budget_key, 0, 1, INT32_MAX));
    if (c.params.max_new_tokens > room)
      throw ApiError(400,
                     cat("'", budget_key, "' is ", c.params.max_new_tokens, " but the prompt (",
                         longest, " tokens) leaves ", room, " of the context's ",
                         cfg.max_position_embeddings, " tokens"),
                     budget_key, "context_length_exceeded");
  } else {
    c.params.max_new_tokens = std::min(limits.default_max_tokens, room);
  }

  c.stop = stop_strings(b, limits);
  if (!boolean(b, "ignore_eos", false)) c.params.stop_ids = m.stop_ids;
  if (const ojson* ids = field(b, "stop_token_ids")) {
    if (!ids->is_array()) bad("stop_token_ids", "'stop_token_ids' must be a list of token ids");
    c.stop_token_ids = id_list(*ids, "stop_token_ids", cfg.vocab_size);
    c.params.stop_ids.insert(c.params.stop_ids.end(), c.stop_token_ids.begin(), c.stop_token_ids.end());
  }

  // Log-probs: completions take "logprobs": N (alternatives per token); chat takes
  // "logprobs": true plus "top_logprobs": N.
  if (chat) {
    c.logprobs = boolean(b, "logprobs", false);
    c.params.top_logprobs =
        static_cast<int>(integer(b, "top_logprobs", 0, 0, limits.max_top_logprobs));
    if (c.params.top_logprobs > 0 && !c.logprobs)
      bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
  } else if (field(b, "logprobs")) {
    if (b["logprobs"].is_boolean())
      bad("logprobs", "'logprobs' must be an integer (the alternatives per token)");
    c.logprobs = true;
    c.params.top_logprobs = static_cast<int>(integer(b, "logprobs", 0, 0, limits.max_top_logprobs));
  }
  c.params.logprobs = LogprobMode::Raw;  // the model's own distribution, as `qlm score` gives
  if (const ojson* mode = field(b, "logprobs_mode")) {
    if (!mode->is_string() || (*mode != "raw" && *mode != "processed"))
      bad("logprobs_mode", "'logprobs_mode' must be \"raw\" or \"processed\"");
    if (*mode == "processed") c.params.logprobs = LogprobMode::Processed;
  }

  c.stream = boolean(b, "stream", false);
  if (const ojson* so = field(b, "stream_options")) {
    if (!so->is_object()) bad("stream_options", "'stream_options' must be an object");
    c.include_usage = boolean(*so, "include_usage", false);
  }
  c.return_token_ids = boolean(b, "return_token_ids", false);
  return c;
}

ScoreCall parse_score(const ojson& b, const LoadedModel& m, int max_completions) {
  ScoreCall s;
  if (const ojson* model = field(b, "model")) {
    if (!model->is_string()) bad("model", "'model' must be a string");
    s.model = model->get<std::string>();
  }
  const ojson* p = field(b, "prompt");
  if (!p) bad("prompt", "'prompt' is required");
  s.prompt = text_or_ids(m, *p, "prompt");
  const ojson* one = field(b, "completion");
  const ojson* many = field(b, "completions");
  if (!one && !many) bad("completions", "'completions' (a list) or 'completion' is required");
  if (many && (!many->is_array() || many->empty()))
    bad("completions", "'completions' must be a non-empty list of strings or token-id lists");
  if (many && static_cast<int>(many->size()) > max_completions)
    bad("completions",
        cat("'completions' has ", many->size(), " entries; at most ", max_completions));
  // Completion text is encoded without BOS: it continues the prompt.
  auto encode = [&](const ojson& v, const std::string& param) {
    if (v.is_string()) {
      if (!m.tokenizer)
        bad(param, cat("this model has no tokenizer (", m.tokenizer_error, "); send token ids"));
      std::vector<int> ids;
      try {
        ids = m.tokenizer->encode(v.get<std::string>());
      } catch (const Error& e) {
        bad(param, cat("'", param, "': ", e.what()));
      }
      if (ids.empty()) bad(param, cat("'", param, "' is empty"));
      return ids;
    }
    return text_or_ids(m, v, param);
  };
  if (one) s.completions.push_back(encode(*one, "completion"));
  if (many)
    for (const ojson& v : *many) s.completions.push_back(encode(v, "completions"));
  const int ctx = m.net->config().max_position_embeddings;
  for (const auto& c : s.completions)
    if (static_cast<int>(s.prompt.size() + c.size()) > ctx)
      throw ApiError(400,
                     cat("prompt + completion (", s.prompt.size() + c.size(),
                         " tokens) exceed the context of ", ctx),
                     "completions", "context_length_exceeded");
  return s;
}

}  // namespace qlm::serve
