// /v1/models, and the qlm extensions /v1/score (teacher-forced log-probs, run on the engine
// thread between two decode steps) and /v1/weights (a safetensors body applied once the batch
// has drained, so requests in flight finish on the weights they started with).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <variant>

#include "base/error.h"
#include "base/timer.h"
#include "io/safetensors.h"
#include "model/weight_update.h"
#include "runtime/request_queue.h"
#include "runtime/score.h"
#include "serve/server_state.h"

namespace qlm::serve {

namespace {

using namespace std::chrono_literals;

// Runs fn on the engine thread and waits for it; an Error inside becomes `bad_status`.
template <class T>
T on_engine_thread(ServerState& s, bool exclusive, int bad_status, std::function<T()> fn) {
  auto box = std::make_shared<Mailbox<std::variant<T, std::string>>>();
  s.engine->post_task(EngineTask{.run =
                                     [box, fn] {
                                       try {
                                         box->post(fn());
                                       } catch (const std::exception& e) {
                                         box->post(std::string(e.what()));
                                       }
                                     },
                                 .exclusive = exclusive});
  while (true) {
    auto got = box->take(1000ms);
    if (got.empty()) continue;
    if (auto* err = std::get_if<std::string>(&got.front())) throw ApiError(bad_status, *err);
    return std::get<T>(std::move(got.front()));
  }
}

}  // namespace

void check_model_name(const ServerState& s, const std::string& requested) {
  if (requested.empty() || requested == s.model_name || requested == s.model->dir) return;
  throw ApiError(
      404,
      cat("the model '", requested, "' does not exist; this server serves '", s.model_name, "'"),
      "model", "model_not_found");
}

void handle_models(ServerState& s, httplib::Response& res) {
  ojson model = {{"id", s.model_name},
                 {"object", "model"},
                 {"created", s.started},
                 {"owned_by", "qlm"},
                 {"max_model_len", s.model->net->config().max_position_embeddings}};
  send_json(res, {{"object", "list"}, {"data", ojson::array({model})}});
}

void handle_score(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const ojson body = parse_body(req.body);
  ScoreCall call = parse_score(body, *s.model, s.options.max_score_completions);
  check_model_name(s, call.model);
  const Transformer& net = *s.model->net;
  std::vector<std::vector<int>> prompts(call.completions.size(), call.prompt);
  auto scores = on_engine_thread<std::vector<std::vector<double>>>(
      s, /*exclusive=*/false, 400, [&net, prompts, completions = call.completions] {
        return score_completions(net, prompts, completions);
      });
  ojson data = ojson::array();
  int64_t tokens = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    double sum = 0;
    for (double x : scores[i]) sum += x;
    tokens += static_cast<int64_t>(call.completions[i].size());
    data.push_back({{"index", i},
                    {"object", "score"},
                    {"token_ids", call.completions[i]},
                    {"logprobs", scores[i]},
                    {"sum_logprob", sum}});
  }
  send_json(res, {{"object", "list"},
                  {"model", call.model.empty() ? s.model_name : call.model},
                  {"prompt_token_ids", call.prompt},
                  {"data", data},
                  {"usage",
                   {{"prompt_tokens", call.prompt.size()},
                    {"completion_tokens", tokens},
                    {"total_tokens", static_cast<int64_t>(call.prompt.size()) + tokens}}}});
}

void handle_weights(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  if (!s.options.allow_weight_updates)
    throw ApiError(403, "weight updates are off; start qlm serve with --allow-weight-updates", "",
                   "forbidden");
  QuantMethod method = QuantMethod::Rtn;
  if (req.has_param("method")) {
    const std::string m = req.get_param_value("method");
    if (m != "rtn" && m != "search")
      throw ApiError(400, "'method' must be rtn or search", "method");
    method = parse_quant_method(m);
  }
  if (req.body.empty())
    throw ApiError(400, "the body must be a safetensors file of the updated tensors", "body");
  // The reader maps files: the body goes to a private temporary file, unlinked once mapped.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = cat(tmpdir && *tmpdir ? tmpdir : "/tmp", "/qlm-weights-XXXXXX");
  const int fd = mkstemp(path.data());
  if (fd < 0) throw ApiError(500, "cannot create a temporary file for the weights");
  size_t written = 0;
  while (written < req.body.size()) {
    const ssize_t n = ::write(fd, req.body.data() + written, req.body.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(fd);
  std::unique_ptr<SafetensorsFile> file;
  try {
    if (written != req.body.size()) fail("cannot write the weights to ", path);
    file = std::make_unique<SafetensorsFile>(path);
  } catch (const Error& e) {
    ::unlink(path.c_str());
    throw ApiError(400, cat("the body is not a valid safetensors file: ", e.what()), "body");
  }
  ::unlink(path.c_str());
  std::vector<TensorUpdate> updates;
  for (const TensorView& t : file->tensors())
    updates.push_back(
        TensorUpdate{.name = t.name, .shape = t.shape, .dtype = t.dtype, .data = t.data});
  if (updates.empty()) throw ApiError(400, "the safetensors body holds no tensors", "body");
  Transformer& net = *s.model->net;
  Timer timer;
  on_engine_thread<int>(s, /*exclusive=*/true, 400, [&net, &updates, method] {
    update_weights(net, updates, method);
    return 0;
  });
  s.metrics.count_weight_update();
  send_json(res, {{"object", "weights_update"},
                  {"updated", updates.size()},
                  {"method", quant_method_name(method)},
                  {"seconds", timer.seconds()}});
}

}  // namespace qlm::serve
