// The transport: httplib routes, API key, body limits, OpenAI-shaped errors, readiness, and the
// lifecycle (bind, load, warm up, serve, drain on SIGTERM).
#include "serve/server.h"

#include <omp.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>

#include "base/error.h"
#include "base/timer.h"
#include "serve/generation.h"
#include "serve/server_state.h"

namespace qlm::serve {

using namespace std::chrono_literals;

void send_json(httplib::Response& res, const ojson& body) {
  res.status = 200;
  res.set_content(to_json_text(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  if (e.status() == 429) res.set_header("Retry-After", "1");
  res.set_content(to_json_text(e.body()), "application/json");
}

namespace {

bool same_secret(const std::string& a, const std::string& b) {  // constant time in the content
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Endpoint endpoint_of(const std::string& path) {
  if (path == "/v1/completions") return Endpoint::Completions;
  if (path == "/v1/chat/completions") return Endpoint::Chat;
  if (path == "/v1/score") return Endpoint::Score;
  if (path == "/v1/weights") return Endpoint::Weights;
  if (path == "/v1/models") return Endpoint::Models;
  if (path == "/health") return Endpoint::Health;
  if (path == "/metrics") return Endpoint::Metrics;
  return Endpoint::Other;
}

// Wraps a handler: readiness, draining, authentication, errors, and the request count.
httplib::Server::Handler guarded(
    ServerState& s, bool needs_model,
    std::function<void(const httplib::Request&, httplib::Response&)> fn) {
  return [&s, needs_model, fn](const httplib::Request& req, httplib::Response& res) {
    try {
      if (!s.options.api_key.empty() && req.path.rfind("/v1/", 0) == 0) {
        const std::string auth = req.get_header_value("Authorization");
        if (auth.rfind("Bearer ", 0) != 0 || !same_secret(auth.substr(7), s.options.api_key))
          throw ApiError(401, "missing or wrong API key: send 'Authorization: Bearer <key>'", "",
                         "invalid_api_key");
      }
      if (needs_model && !s.ready)
        throw ApiError(503, "the model is still loading; retry shortly", "", "not_ready");
      if (needs_model && s.draining)
        throw ApiError(503, "the server is shutting down", "", "shutting_down");
      fn(req, res);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const Error& e) {  // a bad input the OpenAI mapping did not catch first
      send_error(res, ApiError(400, e.what()));
    } catch (const std::exception& e) {
      send_error(res, ApiError(500, cat("internal error: ", e.what())));
    }
    s.metrics.count_request(endpoint_of(req.path), res.status);
  };
}

void install_routes(httplib::Server& http, ServerState& s) {
  http.Post("/v1/completions", guarded(s, true, [&s](const auto& req, auto& res) {
              handle_generation(s, req, res, false);
            }));
  http.Post("/v1/chat/completions", guarded(s, true, [&s](const auto& req, auto& res) {
              handle_generation(s, req, res, true);
            }));
  http.Post("/v1/score",
            guarded(s, true, [&s](const auto& req, auto& res) { handle_score(s, req, res); }));
  http.Post("/v1/weights",
            guarded(s, true, [&s](const auto& req, auto& res) { handle_weights(s, req, res); }));
  http.Get("/v1/models", guarded(s, true, [&s](const auto&, auto& res) { handle_models(s, res); }));
  http.Get("/health", guarded(s, false, [&s](const auto&, auto& res) {
             const char* state = !s.ready ? "loading" : s.draining ? "draining" : "ok";
             res.status = std::string(state) == "ok" ? 200 : 503;
             res.set_content(ojson{{"status", state}}.dump(), "application/json");
           }));
  http.Get("/metrics", guarded(s, false, [&s](const auto&, auto& res) {
             // Before `ready` the engine may still be under construction on the main thread.
             const std::string text =
                 s.ready ? s.metrics.render(s.engine->counters(), s.engine->waiting())
                         : s.metrics.render(EngineCounters{}, 0);
             res.set_content(text, "text/plain; version=0.0.4");
           }));

  // Body limits are checked on the Content-Length header, before the body is read.
  http.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
    const size_t limit =
        req.path == "/v1/weights" ? s.options.max_weights_body : s.options.max_body;
    if (req.has_header("Content-Length") &&
        std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > limit) {
      send_error(
          res, ApiError(413, cat("the request body is larger than the limit of ", limit, " bytes"),
                        "", "body_too_large"));
      s.metrics.count_request(endpoint_of(req.path), 413);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Whatever httplib answers by itself (unknown path, unread oversized body) gets the error shape.
  http.set_error_handler([&s](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string msg = res.status == 404 ? cat("no such endpoint: ", req.method, " ", req.path)
                            : res.status == 413 ? std::string("the request body is too large")
                                                : cat("HTTP error ", res.status);
    res.set_content(to_json_text(ApiError(res.status, msg).body()), "application/json");
    if (res.status == 404) s.metrics.count_request(Endpoint::Other, 404);
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, ApiError(500, "internal error"));
      });
}

// One short generation through the whole path, so the first client does not pay for page faults.
void warm_up(ServerState& s) {
  const ModelConfig& cfg = s.model->net->config();
  GenerationCall call;
  call.prompts = {
      {s.model->tokenizer && s.model->tokenizer->bos_id() ? *s.model->tokenizer->bos_id() : 0}};
  if (call.prompts[0][0] >= cfg.vocab_size) call.prompts[0][0] = 0;
  call.params.max_new_tokens = 2;
  GenerationJob job(*s.engine, *s.model, call);
  job.submit();
  while (!job.finished()) job.take(1000ms);
}

}  // namespace

int run_server(const std::string& model_dir, const ServerOptions& options,
               const std::function<void(const std::string& url)>& on_ready) {
  if (options.port < 0 || options.port > 65535)
    fail("--port: ", options.port, " is not in [0, 65535]");
  if (options.max_batch < 1) fail("--max-batch: must be at least 1");
  if (options.limits.max_n < 1 || options.limits.max_n > options.max_batch)
    fail("--max-n: must be in [1, --max-batch = ", options.max_batch, "]");
  // SIGTERM/SIGINT are taken by sigwait below; every thread started from here inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server

  ServerState s;
  s.options = options;
  s.started = static_cast<int64_t>(std::time(nullptr));
  s.model_name = options.model_name.empty()
                     ? std::filesystem::path(model_dir).lexically_normal().filename().string()
                     : options.model_name;
  if (s.model_name.empty())
    s.model_name =
        std::filesystem::path(model_dir).lexically_normal().parent_path().filename().string();
  httplib::Server http;
  const size_t threads = options.http_threads > 0
                             ? static_cast<size_t>(options.http_threads)
                             : static_cast<size_t>(options.max_batch) + options.max_queue + 16;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(
      std::max(options.max_body, options.allow_weight_updates ? options.max_weights_body : 0));
  install_routes(http, s);
  // httplib's defaults: SO_REUSEPORT (a second server on the same port would silently share
  // it) and a listen backlog of 5 (a burst of clients overflows it and gets resets). Ours:
  // SO_REUSEADDR only, and the backlog raised once bound.
  int listen_fd = -1;
  http.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = sock;
  });
  const int port = options.port == 0
                       ? http.bind_to_any_port(options.host)
                       : (http.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0)
    fail("--host/--port: cannot listen on ", options.host, ":", options.port,
         " (in use, or not an address here?)");
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);  // listen() again only resizes the queue

  std::atomic<bool> listener_done{false};
  std::thread listener([&] {
    http.listen_after_bind();
    listener_done = true;
  });
  // httplib's stop() does nothing before the accept loop runs: wait for it (or its failure).
  auto stop_http = [&] {
    while (!http.is_running() && !listener_done) std::this_thread::sleep_for(1ms);
    http.stop();
    listener.join();
  };

  // Load and warm up while /health says "loading".
  std::thread engine_thread;
  try {
    s.model = std::make_unique<LoadedModel>(load_model(model_dir));
    s.engine = std::make_unique<BatchEngine>(
        *s.model->net,
        EngineOptions{.max_batch = options.max_batch,
                      .max_waiting = options.max_queue,
                      .kv_budget_bytes = options.kv_budget_bytes,
                      .prefix_cache_bytes = options.prefix_cache_bytes});
    // OpenMP's thread count (--threads) is per thread: a new thread would start from the default
    // (every core), oversubscribing a busy machine. The engine thread takes the caller's.
    const int omp_threads = omp_get_max_threads();
    engine_thread = std::thread([&s, omp_threads] {
      omp_set_num_threads(omp_threads);
      s.engine->serve();
    });
    warm_up(s);
  } catch (...) {
    if (s.engine) s.engine->stop();
    if (engine_thread.joinable()) engine_thread.join();
    stop_http();
    throw;
  }
  s.ready = true;
  const std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  on_ready(cat("http://", host, ":", port));

  int sig = 0;
  sigwait(&stop_signals, &sig);
  // Drain: refuse new work, let what runs finish until the deadline, then cancel the rest.
  s.draining = true;
  std::fprintf(stderr, "qlm serve: %s: draining (up to %.0f s)\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT", options.shutdown_timeout);
  Timer drain;
  while (s.metrics.in_flight() > 0 && drain.seconds() < options.shutdown_timeout)
    std::this_thread::sleep_for(20ms);
  if (s.metrics.in_flight() > 0) {
    std::fprintf(stderr, "qlm serve: deadline reached; cancelling what still runs\n");
    s.engine->cancel_all();
    // Handlers now send what their sequences produced (finish_reason "abort") and close.
    Timer flush;
    while (s.metrics.in_flight() > 0 && flush.seconds() < 5) std::this_thread::sleep_for(20ms);
  }
  stop_http();
  s.engine->stop();
  engine_thread.join();
  std::fprintf(stderr, "qlm serve: stopped\n");
  return 0;
}

}  // namespace qlm::serve
