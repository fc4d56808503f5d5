// /v1/completions and /v1/chat/completions: whole responses, or Server-Sent Events where each
// chunk carries what the engine produced since the previous one (so a slow reader gets fewer,
// larger chunks and never holds back the batch), then usage (if asked) and [DONE].
#include <cstdio>
#include <ctime>

#include "base/timer.h"
#include "serve/generation.h"
#include "serve/openai_response.h"
#include "serve/server_state.h"

namespace qlm::serve {

namespace {

using namespace std::chrono_literals;

ResponseHead make_head(ServerState& s, const GenerationCall& call) {
  char id[32];
  std::snprintf(id, sizeof id, "%s%016llx", call.chat ? "chatcmpl-" : "cmpl-",
                static_cast<unsigned long long>(s.next_id.fetch_add(1)));
  return ResponseHead{.id = id,
                      .created = static_cast<int64_t>(std::time(nullptr)),
                      .model = call.model.empty() ? s.model_name : call.model};
}

struct Stream {
  std::shared_ptr<GenerationCall> call;
  std::shared_ptr<GenerationJob> job;
  ResponseHead head;
  Usage usage;
  std::vector<size_t> text_offset;  // [choices] text sent so far (completions log-prob offsets)
  bool opened = false;
  bool done = false;
  Timer timer;
};

bool write_event(httplib::DataSink& sink, const std::string& payload) {
  const std::string line = "data: " + payload + "\n\n";
  return sink.write(line.data(), line.size());
}

// One call of the chunked content provider: waits briefly for deltas and sends them.
// Returns false when the client went away (its sequences are cancelled by the releaser).
bool pump(ServerState& s, Stream& st, httplib::DataSink& sink) {
  const GenerationCall& call = *st.call;
  const Tokenizer* tok = s.model->tokenizer.get();
  if (!st.opened) {
    st.opened = true;
    if (call.chat || call.return_token_ids)
      for (int i = 0; i < st.job->choices(); ++i)
        if (!write_event(sink, to_json_text(generation_chunk(call, st.head, i, nullptr, tok, 0))))
          return false;
  }
  std::vector<ChoiceDelta> deltas = st.job->take(100ms);
  // Merge per choice, keeping the order in which choices first appear.
  std::vector<int> order;
  std::vector<ChoiceResult> merged(st.job->choices());
  std::vector<bool> seen(st.job->choices(), false);
  for (ChoiceDelta& d : deltas) {
    if (!seen[d.index]) order.push_back(d.index), seen[d.index] = true;
    if (d.first_token_seconds >= 0) s.metrics.observe_first_token(d.first_token_seconds);
    st.usage.add(d, call.n);
    merged[d.index].add(std::move(d));
  }
  for (int i : order) {
    const ChoiceResult& m = merged[i];
    if (!write_event(sink,
                     to_json_text(generation_chunk(call, st.head, i, &m, tok, st.text_offset[i]))))
      return false;
    st.text_offset[i] += m.text.size();
  }
  if (st.job->finished() && !st.done) {
    st.done = true;
    if (call.include_usage &&
        !write_event(sink, to_json_text(usage_chunk(call, st.head, st.usage))))
      return false;
    if (!write_event(sink, "[DONE]")) return false;
    sink.done();
  }
  return true;
}

}  // namespace

void handle_generation(ServerState& s, const httplib::Request& req, httplib::Response& res,
                       bool chat) {
  Timer timer;
  const ojson body = parse_body(req.body);
  auto call =
      std::make_shared<GenerationCall>(parse_generation(body, chat, *s.model, s.options.limits));
  check_model_name(s, call->model);
  auto job = std::make_shared<GenerationJob>(*s.engine, *s.model, *call);
  job->submit();
  const ResponseHead head = make_head(s, *call);
  Usage usage;
  for (const auto& p : call->prompts) usage.prompt_tokens += static_cast<int64_t>(p.size());
  s.metrics.add_in_flight(1);

  if (!call->stream) {
    std::vector<ChoiceResult> choices(job->choices());
    while (!job->finished())
      for (ChoiceDelta& d : job->take(1000ms)) {
        if (d.first_token_seconds >= 0) s.metrics.observe_first_token(d.first_token_seconds);
        usage.add(d, call->n);
        choices[d.index].add(std::move(d));
      }
    send_json(res, generation_response(*call, head, choices, s.model->tokenizer.get(), usage));
    s.metrics.add_in_flight(-1);
    s.metrics.observe_latency(timer.seconds());
    return;
  }

  auto st = std::make_shared<Stream>(Stream{.call = call,
                                            .job = job,
                                            .head = head,
                                            .usage = usage,
                                            .text_offset = std::vector<size_t>(job->choices(), 0)});
  st->timer = timer;
  res.status =
      200;  // httplib would set it only after this handler returns, too late for the request count
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");  // nginx: pass events through as they come
  ServerState* sp = &s;
  res.set_chunked_content_provider(
      "text/event-stream",
      [sp, st](size_t, httplib::DataSink& sink) {
        try {  // httplib does not catch exceptions from content providers
          return pump(*sp, *st, sink);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "qlm serve: stream %s failed: %s\n", st->head.id.c_str(), e.what());
          return false;
        }
      },
      [sp, st](bool success) {
        if (!st->done) {  // the client went away (or the server stopped): free its batch rows now
          st->job->cancel();
          sp->metrics.count_disconnect();
        }
        (void)success;
        sp->metrics.add_in_flight(-1);
        sp->metrics.observe_latency(st->timer.seconds());
      });
}

}  // namespace qlm::serve
