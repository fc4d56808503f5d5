// Model.generate: prompts (text, token ids or chat messages) -> n completions each, through the
// batched rollout engine with the GIL released.
#include <pybind11/stl.h>

#include <algorithm>
#include <mutex>

#include "base/error.h"
#include "py_model.h"
#include "runtime/prompt.h"
#include "runtime/rollout.h"
#include "runtime/stop_strings.h"
#include "runtime/token_ids.h"

namespace qlm::py_binding {

namespace {

struct GenerateArgs {
  int n = 1, max_tokens = 256, top_k = 0, top_logprobs = 0, max_batch = 32;
  float temperature = 0, top_p = 1, min_p = 0;
  float repetition_penalty = 1, presence_penalty = 0, frequency_penalty = 0;
  uint64_t seed = 0;
  std::string logprobs = "processed";
  std::optional<bool> chat;
  std::string system;
  bool stop_at_eos = true;
  std::vector<std::string> stop;
  double prefix_cache_gib = 1;
};

// Python messages (list of {role, content, ...} dicts) -> JSON, through the json module so any
// JSON-able content (tool calls, nested lists) passes as it is.
nlohmann::ordered_json to_json(const py::handle& obj) {
  const std::string text = py::module_::import("json").attr("dumps")(obj).cast<std::string>();
  return nlohmann::ordered_json::parse(text);
}

std::vector<int> prompt_ids(const PyModel& self, const py::handle& p, const GenerateArgs& a,
                            size_t index) {
  PromptSpec spec;
  spec.system = a.system;
  if (py::isinstance<py::str>(p)) {
    spec.text = p.cast<std::string>();
    spec.chat = a.chat.value_or(self.m.chat_template != nullptr);
  } else if (py::isinstance<py::sequence>(p) && py::len(p) > 0 &&
             py::isinstance<py::dict>(p[py::int_(0)])) {
    if (a.chat == false)
      fail("prompts[", index, "]: chat messages need the chat template (chat=False given)");
    spec.messages = to_json(p);
  } else if (py::isinstance<py::sequence>(p)) {
    spec.ids = p.cast<std::vector<int>>();
    if (spec.ids.empty()) fail("prompts[", index, "]: the token id list is empty");
  } else {
    throw py::type_error(
        cat("prompts[", index, "]: expected a str, a list of token ids or a list of messages"));
  }
  std::vector<int> ids;
  try {
    ids = build_prompt(self.m, spec);
  } catch (const Error& e) {
    fail("prompts[", index, "]: ", e.what());
  }
  check_token_ids(ids, self.m.net->config().vocab_size, cat("prompts[", index, "]"));
  if (ids.empty()) fail("prompts[", index, "]: the prompt is empty and the tokenizer adds no BOS");
  return ids;
}

// stop=: None, one string, or a list of strings.
std::vector<std::string> stop_list(const py::object& stop) {
  if (stop.is_none()) return {};
  if (py::isinstance<py::str>(stop)) return {stop.cast<std::string>()};
  if (!py::isinstance<py::sequence>(stop)) throw py::type_error("generate: stop must be a str or a list of str");
  std::vector<std::string> out;
  for (const py::handle& s : py::sequence(stop)) {
    if (!py::isinstance<py::str>(s)) throw py::type_error("generate: stop must be a str or a list of str");
    out.push_back(s.cast<std::string>());
  }
  return out;
}

py::list generate(const PyModel& self, const py::object& prompts, const GenerateArgs& a) {
  if (py::isinstance<py::str>(prompts) || !py::isinstance<py::sequence>(prompts))
    throw py::type_error("generate: prompts must be a list (wrap a single prompt in [...])");
  if (a.logprobs != "raw" && a.logprobs != "processed")
    fail("generate: logprobs must be 'raw' or 'processed', got '", a.logprobs, "'");
  if (a.n < 1) fail("generate: n must be at least 1, got ", a.n);
  if (a.top_logprobs < 0) fail("generate: top_logprobs must be >= 0, got ", a.top_logprobs);
  if (!(a.prefix_cache_gib >= 0))
    fail("generate: prefix_cache_memory must be a number of GiB >= 0, got ", a.prefix_cache_gib);
  std::vector<RolloutRequest> requests;
  size_t index = 0;
  for (const py::handle& p : py::sequence(prompts)) {
    // The request id seeds the samplers: the same list and seed give the same samples.
    requests.push_back(
        RolloutRequest{.id = std::to_string(index), .prompt_ids = prompt_ids(self, p, a, index)});
    ++index;
  }
  RolloutParams params{.samples_per_prompt = a.n,
                       .max_new_tokens = a.max_tokens,
                       .sampling = SamplingParams{.temperature = a.temperature,
                                                  .top_k = a.top_k,
                                                  .top_p = a.top_p,
                                                  .min_p = a.min_p,
                                                  .repetition_penalty = a.repetition_penalty,
                                                  .presence_penalty = a.presence_penalty,
                                                  .frequency_penalty = a.frequency_penalty,
                                                  .seed = a.seed},
                       .logprobs = a.logprobs == "raw" ? LogprobMode::Raw : LogprobMode::Processed,
                       .top_logprobs = a.top_logprobs,
                       .max_batch = a.max_batch,
                       .prefix_cache_bytes = a.prefix_cache_gib * double(size_t{1} << 30)};
  if (a.stop_at_eos) params.stop_ids = self.m.stop_ids;
  params.stop_strings = a.stop;
  params.tokenizer = self.m.tokenizer.get();
  // A prompt's n samples join the batch together: the batch must hold them all.
  params.max_batch = std::max(a.max_batch, a.n);

  std::vector<std::vector<Completion>> done(requests.size(), std::vector<Completion>(a.n));
  if (!requests.empty()) {
    py::gil_scoped_release release;
    std::shared_lock guard(self.lock);
    self.use_threads();
    RolloutEngine engine(*self.m.net, params);
    engine.run(requests, [&](const Completion& c) { done[c.request][c.sample] = c; });
  }

  py::list out;
  for (size_t r = 0; r < requests.size(); ++r) {
    py::list samples;
    for (const Completion& c : done[r]) {
      py::dict d;
      // With stop strings the text is cut before the one met (the ids keep its last token).
      d["text"] = self.m.tokenizer
                      ? py::object(py::bytes(a.stop.empty()
                                                 ? self.m.tokenizer->decode(c.ids, /*skip_special=*/true)
                                                 : text_before_stop(*self.m.tokenizer, c.ids, a.stop,
                                                                    params.stop_ids))
                                       .attr("decode")("utf-8", "replace"))
                      : py::object(py::none());
      d["token_ids"] = c.ids;
      d["prompt_ids"] = requests[r].prompt_ids;
      d["logprobs"] = c.logprobs;
      if (a.top_logprobs > 0) d["top_logprobs"] = c.top;
      d["finish_reason"] = c.finish_reason;
      d["stop_string"] = c.stop_string.empty() ? py::object(py::none()) : py::object(py::str(c.stop_string));
      samples.append(d);
    }
    out.append(samples);
  }
  return out;
}

}  // namespace

void bind_generate(py::class_<PyModel>& cls) {
  cls.def(
      "generate",
      [](const PyModel& self, const py::object& prompts, int n, int max_tokens, float temperature,
         float top_p, int top_k, float min_p, uint64_t seed, const std::string& logprobs,
         int top_logprobs, std::optional<bool> chat, const std::string& system, bool stop_at_eos,
         float repetition_penalty, float presence_penalty, float frequency_penalty, int max_batch,
         const py::object& stop, double prefix_cache_memory) {
        return generate(self, prompts,
                        GenerateArgs{.n = n,
                                     .max_tokens = max_tokens,
                                     .top_k = top_k,
                                     .top_logprobs = top_logprobs,
                                     .max_batch = max_batch,
                                     .temperature = temperature,
                                     .top_p = top_p,
                                     .min_p = min_p,
                                     .repetition_penalty = repetition_penalty,
                                     .presence_penalty = presence_penalty,
                                     .frequency_penalty = frequency_penalty,
                                     .seed = seed,
                                     .logprobs = logprobs,
                                     .chat = chat,
                                     .system = system,
                                     .stop_at_eos = stop_at_eos,
                                     .stop = stop_list(stop),
                                     .prefix_cache_gib = prefix_cache_memory});
      },
      py::arg("prompts"), py::arg("n") = 1, py::arg("max_tokens") = 256,
      py::arg("temperature") = 0.0f, py::arg("top_p") = 1.0f, py::arg("top_k") = 0,
      py::arg("min_p") = 0.0f, py::arg("seed") = 0, py::arg("logprobs") = "processed",
      py::arg("top_logprobs") = 0, py::arg("chat") = py::none(), py::arg("system") = "",
      py::arg("stop_at_eos") = true, py::arg("repetition_penalty") = 1.0f,
      py::arg("presence_penalty") = 0.0f, py::arg("frequency_penalty") = 0.0f,
      py::arg("max_batch") = 32, py::arg("stop") = py::none(), py::arg("prefix_cache_memory") = 1.0,
      "n completions per prompt. prompts: a list of str (the chat template is applied when the "
      "model has "
      "one, unless chat=False), of token-id lists, or of message lists. Returns per prompt a list "
      "of n dicts "
      "{text, token_ids, prompt_ids, logprobs, finish_reason, stop_string} (+ top_logprobs). stop: "
      "a string or list of strings; a sample ends on the token completing one (kept in token_ids, "
      "with its log-prob), its text is cut before it and stop_string names it. Samples are seeded "
      "by (seed, prompt index, sample index). prefix_cache_memory: GiB of prompts' K/V kept for "
      "later prompts of the call that start the same way (0 = off; results unchanged). The GIL "
      "is released while the engine runs.");
}

}  // namespace qlm::py_binding
