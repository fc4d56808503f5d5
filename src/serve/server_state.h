// What the HTTP handlers share (private to src/serve): the model, the engine, options, metrics
// and the ready/draining flags. The model and engine are set once before `ready` turns true and
// never change after, so handlers read them without locks.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>

#include "runtime/batch_engine.h"
#include "runtime/loaded_model.h"
#include "serve/metrics.h"
#include "serve/server.h"

namespace qlm::serve {

struct ServerState {
  ServerOptions options;
  std::string model_name;
  std::unique_ptr<LoadedModel> model;
  std::unique_ptr<BatchEngine> engine;
  Metrics metrics;
  std::atomic<bool> ready{false};     // loaded and warmed up
  std::atomic<bool> draining{false};  // SIGTERM seen: new work is refused
  std::atomic<uint64_t> next_id{1};
  int64_t started = 0;  // unix time, for /v1/models
};

// Sends an ApiError as the OpenAI error JSON (with Retry-After on 429).
void send_error(httplib::Response& res, const ApiError& e);
void send_json(httplib::Response& res, const ojson& body);

// Handlers (serve_generation.cpp, serve_extensions.cpp). They throw ApiError for bad input.
void handle_generation(ServerState& s, const httplib::Request& req, httplib::Response& res,
                       bool chat);
void handle_score(ServerState& s, const httplib::Request& req, httplib::Response& res);
void handle_weights(ServerState& s, const httplib::Request& req, httplib::Response& res);
void handle_models(ServerState& s, httplib::Response& res);

// The model field's check: the served name or the folder path, else 404 model_not_found.
void check_model_name(const ServerState& s, const std::string& requested);

}  // namespace qlm::serve
