// Response JSON builders.
#include "serve/openai_response.h"

namespace qlm::serve {

namespace {

std::string token_text(const Tokenizer* tok, int id) {
  if (!tok) return "token_id:" + std::to_string(id);  // vLLM's spelling when there is no text
  const int ids[1] = {id};
  return tok->decode(ids, /*skip_special=*/false);
}

ojson bytes_of(const std::string& s) {
  ojson b = ojson::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

ojson completion_logprobs(const ChoiceResult& c, const Tokenizer* tok, size_t offset,
                          bool with_top) {
  ojson tokens = ojson::array(), lps = ojson::array(), tops = ojson::array(),
        offsets = ojson::array();
  for (size_t i = 0; i < c.ids.size(); ++i) {
    const std::string t = token_text(tok, c.ids[i]);
    tokens.push_back(t);
    lps.push_back(c.logprobs[i]);
    offsets.push_back(offset);
    offset += t.size();
    if (with_top) {
      ojson alt = ojson::object();
      if (i < c.top.size())
        for (auto [id, lp] : c.top[i]) alt[token_text(tok, id)] = lp;
      tops.push_back(alt);
    }
  }
  return {{"tokens", tokens},
          {"token_logprobs", lps},
          {"top_logprobs", with_top ? tops : ojson(nullptr)},
          {"text_offset", offsets}};
}

ojson chat_logprobs(const ChoiceResult& c, const Tokenizer* tok) {
  ojson content = ojson::array();
  for (size_t i = 0; i < c.ids.size(); ++i) {
    const std::string t = token_text(tok, c.ids[i]);
    ojson alts = ojson::array();
    if (i < c.top.size())
      for (auto [id, lp] : c.top[i]) {
        const std::string a = token_text(tok, id);
        alts.push_back({{"token", a}, {"logprob", lp}, {"bytes", bytes_of(a)}});
      }
    content.push_back(
        {{"token", t}, {"logprob", c.logprobs[i]}, {"bytes", bytes_of(t)}, {"top_logprobs", alts}});
  }
  return {{"content", content}};
}

ojson logprobs_of(const GenerationCall& call, const ChoiceResult& c, const Tokenizer* tok,
                  size_t offset) {
  if (!call.logprobs) return nullptr;
  return call.chat ? chat_logprobs(c, tok)
                   : completion_logprobs(c, tok, offset, call.params.top_logprobs > 0);
}

ojson head_json(const ResponseHead& head, const char* object) {
  return {{"id", head.id}, {"object", object}, {"created", head.created}, {"model", head.model}};
}

ojson finish_json(const std::string& reason) {
  return reason.empty() ? ojson(nullptr) : ojson(reason);
}

// vLLM's stop_reason: the stop string or stop_token_ids entry that ended the choice, else null.
ojson stop_reason_json(const StopReason& r) {
  if (!r.text.empty()) return r.text;
  if (r.token >= 0) return r.token;
  return nullptr;
}

}  // namespace

void Usage::add(const ChoiceDelta& d, int n) {
  completion_tokens += static_cast<int64_t>(d.ids.size());
  if (d.cached_prompt_tokens > 0 && d.index % n == 0) cached_tokens += d.cached_prompt_tokens;
}

ojson Usage::json() const {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}};
}

ojson generation_response(const GenerationCall& call, const ResponseHead& head,
                          const std::vector<ChoiceResult>& choices, const Tokenizer* tok,
                          const Usage& usage) {
  ojson j = head_json(head, call.chat ? "chat.completion" : "text_completion");
  ojson list = ojson::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceResult& c = choices[i];
    ojson choice = {{"index", i}};
    if (call.chat)
      choice["message"] = {{"role", "assistant"}, {"content", c.text}};
    else
      choice["text"] = c.text;
    choice["logprobs"] = logprobs_of(call, c, tok, 0);
    choice["finish_reason"] = finish_json(c.finish_reason);
    choice["stop_reason"] = stop_reason_json(c.stop_reason);
    if (call.return_token_ids) {
      choice["prompt_token_ids"] = call.prompts[i / call.n];
      choice["token_ids"] = c.ids;
    }
    list.push_back(std::move(choice));
  }
  j["choices"] = std::move(list);
  j["usage"] = usage.json();
  return j;
}

ojson generation_chunk(const GenerationCall& call, const ResponseHead& head, int index,
                       const ChoiceResult* d, const Tokenizer* tok, size_t text_offset) {
  ojson j = head_json(head, call.chat ? "chat.completion.chunk" : "text_completion");
  ojson choice = {{"index", index}};
  if (call.chat) {
    choice["delta"] =
        d ? ojson{{"content", d->text}} : ojson{{"role", "assistant"}, {"content", ""}};
  } else {
    choice["text"] = d ? d->text : "";
  }
  choice["logprobs"] = d ? logprobs_of(call, *d, tok, text_offset) : ojson(nullptr);
  choice["finish_reason"] = d ? finish_json(d->finish_reason) : ojson(nullptr);
  choice["stop_reason"] = d ? stop_reason_json(d->stop_reason) : ojson(nullptr);
  if (call.return_token_ids) {
    if (d)
      choice["token_ids"] = d->ids;
    else
      choice["prompt_token_ids"] = call.prompts[index / call.n];
  }
  j["choices"] = ojson::array({choice});
  return j;
}

ojson usage_chunk(const GenerationCall& call, const ResponseHead& head, const Usage& usage) {
  ojson j = head_json(head, call.chat ? "chat.completion.chunk" : "text_completion");
  j["choices"] = ojson::array();
  j["usage"] = usage.json();
  return j;
}

}  // namespace qlm::serve
