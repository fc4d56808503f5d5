// `qlm serve`: an OpenAI-compatible HTTP server (cpp-httplib) on the continuous-batching engine.
// Endpoints: /v1/completions, /v1/chat/completions, /v1/models, /v1/score, /v1/weights,
// /health, /metrics. SIGTERM/SIGINT drain gracefully.
#pragma once

#include <functional>
#include <string>

#include "serve/openai_request.h"

namespace qlm::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;         // 0: any free port (printed when ready)
  std::string api_key;     // empty: no authentication
  std::string model_name;  // the id in /v1/models; empty: the folder's name
  int max_batch = 32;      // sequences decoding at once
  double kv_budget_bytes = 0;  // EngineOptions::kv_budget_bytes (0: 80% of available memory)
  double prefix_cache_bytes = double(size_t{1} << 30);  // EngineOptions::prefix_cache_bytes
  size_t max_queue = 64;   // requests waiting for a batch slot before 429
  RequestLimits limits;
  size_t max_body = 1 << 20;              // bytes of a JSON request body
  size_t max_weights_body = 16ull << 30;  // bytes of a /v1/weights body
  bool allow_weight_updates = false;
  double shutdown_timeout = 30;  // seconds in-flight requests get to finish after SIGTERM
  int http_threads = 0;          // 0: max_batch + max_queue + 16
  int max_score_completions = 64;
};

// Binds, loads the model (/health answers 503 meanwhile), warms up, calls on_ready(url), then
// serves until SIGTERM or SIGINT and drains. Returns the exit status. Throws Error for a bad
// option, an address it cannot bind, or a model that does not load.
int run_server(const std::string& model_dir, const ServerOptions& options,
               const std::function<void(const std::string& url)>& on_ready);

}  // namespace qlm::serve
