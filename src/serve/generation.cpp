// Engine callbacks of a generation call (engine thread) and its mailbox (HTTP thread).
#include "serve/generation.h"

#include <algorithm>

#include "runtime/request_queue.h"
#include "runtime/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace qlm::serve {

namespace {

// What a delta adds to the choice so far: a ChoiceResult (HTTP thread) or the ChoiceDelta a
// whole response holds back (engine thread), which share these fields.
template <class Choice>
void merge_delta(Choice& into, ChoiceDelta&& d) {
  into.text += d.text;
  into.ids.insert(into.ids.end(), d.ids.begin(), d.ids.end());
  into.logprobs.insert(into.logprobs.end(), d.logprobs.begin(), d.logprobs.end());
  for (auto& t : d.top) into.top.push_back(std::move(t));
  if (!d.finish_reason.empty()) {
    into.finish_reason = std::move(d.finish_reason);
    into.stop_reason = std::move(d.stop_reason);
  }
}

// Text state of one choice; touched by the engine thread only.
struct ChoiceText {
  std::unique_ptr<StopStringWatch> watch;  // null without a tokenizer (ids only)
  ChoiceDelta held;  // not streaming: the whole choice, posted once when it ends
};

void append(ChoiceDelta& into, ChoiceDelta&& d) {
  if (d.first_token_seconds >= 0) into.first_token_seconds = d.first_token_seconds;
  if (d.cached_prompt_tokens >= 0) into.cached_prompt_tokens = d.cached_prompt_tokens;
  merge_delta(into, std::move(d));
}

}  // namespace

void ChoiceResult::add(ChoiceDelta&& d) { merge_delta(*this, std::move(d)); }

struct GenerationJob::Shared {
  Mailbox<ChoiceDelta> box;
  std::vector<ChoiceText> text;  // [choices]
  int n = 1;
  // Streams get every token as it comes; whole responses get one post per choice, which spares
  // the engine thread a lock and a wake-up per token.
  bool stream = false;
};

GenerationJob::GenerationJob(BatchEngine& engine, const LoadedModel& m, const GenerationCall& call)
    : engine_(engine), call_(call), shared_(std::make_shared<Shared>()) {
  choices_ = static_cast<int>(call.prompts.size()) * call.n;
  shared_->n = call.n;
  shared_->stream = call.stream;
  for (int i = 0; i < choices_; ++i) {
    ChoiceText t{.held = ChoiceDelta{.index = i}};
    if (m.tokenizer) t.watch = std::make_unique<StopStringWatch>(*m.tokenizer, call.stop, call.params.stop_ids);
    shared_->text.push_back(std::move(t));
  }
}

GenerationJob::~GenerationJob() {
  if (!finished()) cancel();
}

void GenerationJob::submit() {
  for (size_t p = 0; p < call_.prompts.size(); ++p) {
    std::shared_ptr<Shared> sh = shared_;
    EngineRequest r;
    // The id seeds the samplers: prompt i (1-based) draws as line i of a `qlm rollout` file without
    // ids.
    r.id = std::to_string(p + 1);
    r.tag = p;
    r.prompt_ids = call_.prompts[p];
    for (int k = 0; k < call_.n; ++k) r.samples.push_back(k);
    r.params = call_.params;
    r.on_token = [sh](const Completion& c) {
      const int index = static_cast<int>(c.request) * sh->n + c.sample;
      ChoiceText& t = sh->text[index];
      const int id = c.ids.back();
      ChoiceDelta d{.index = index, .ids = {id}, .logprobs = {c.logprobs.back()}};
      if (!c.top.empty()) d.top.push_back(c.top.back());
      if (c.ids.size() == 1) {
        d.first_token_seconds = c.first_token_seconds;
        d.cached_prompt_tokens = c.cached_prompt_tokens;
      }
      // Stop ids end the text without showing up in it; stop strings are cut by the watch.
      if (t.watch) d.text = t.watch->push(id);
      const bool go_on = !(t.watch && t.watch->stopped());
      if (sh->stream)
        sh->box.post(std::move(d));
      else
        append(t.held, std::move(d));
      return go_on;
    };
    r.on_complete = [sh, user_stop_ids = call_.stop_token_ids](const Completion& c) {
      const int index = static_cast<int>(c.request) * sh->n + c.sample;
      ChoiceText& t = sh->text[index];
      ChoiceDelta d{.index = index,
                    .finish_reason = c.finish_reason == "cancelled" ? "abort" : c.finish_reason};
      if (t.watch && t.watch->stopped()) {
        d.stop_reason.text = t.watch->matched();
      } else if (d.finish_reason == "stop" && !c.ids.empty() &&
                 std::find(user_stop_ids.begin(), user_stop_ids.end(), c.ids.back()) != user_stop_ids.end()) {
        d.stop_reason.token = c.ids.back();
      }
      if (t.watch) d.text = t.watch->finish();
      if (!sh->stream) {
        append(t.held, std::move(d));
        d = std::move(t.held);
      }
      sh->box.post(std::move(d));
    };
    const uint64_t ticket = engine_.submit(std::move(r));
    if (ticket == 0) {
      cancel();
      finished_ = choices_;  // what was submitted is cancelled; nobody waits for it
      throw ApiError(429, "the server is busy: the request queue is full; retry later", "",
                     "queue_full");
    }
    tickets_.push_back(ticket);
  }
}

std::vector<ChoiceDelta> GenerationJob::take(std::chrono::milliseconds timeout) {
  std::vector<ChoiceDelta> out = shared_->box.take(timeout);
  for (const ChoiceDelta& d : out)
    if (!d.finish_reason.empty()) ++finished_;
  return out;
}

void GenerationJob::cancel() {
  for (uint64_t t : tickets_) engine_.cancel(t);
}

}  // namespace qlm::serve
