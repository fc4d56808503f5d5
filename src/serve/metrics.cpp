// Prometheus exposition (text format 0.0.4).
#include "serve/metrics.h"

#include <chrono>
#include <cstdio>

#include "base/error.h"

namespace qlm::serve {

const char* endpoint_path(Endpoint e) {
  switch (e) {
    case Endpoint::Completions:
      return "/v1/completions";
    case Endpoint::Chat:
      return "/v1/chat/completions";
    case Endpoint::Score:
      return "/v1/score";
    case Endpoint::Weights:
      return "/v1/weights";
    case Endpoint::Models:
      return "/v1/models";
    case Endpoint::Health:
      return "/health";
    case Endpoint::Metrics:
      return "/metrics";
    default:
      return "other";
  }
}

void Histogram::observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(seconds, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const char* name, const char* help) const {
  out += cat("# HELP ", name, " ", help, "\n# TYPE ", name, " histogram\n");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += cat(name, "_bucket{le=\"", i < kBounds.size() ? cat(kBounds[i]) : std::string("+Inf"),
               "\"} ", cumulative, "\n");
  }
  out += cat(name, "_sum ", sum_.load(std::memory_order_relaxed), "\n", name, "_count ", cumulative,
             "\n");
}

void Metrics::count_request(Endpoint e, int status) {
  size_t s = kStatuses.size() - 1;
  for (size_t i = 0; i + 1 < kStatuses.size(); ++i)
    if (kStatuses[i] == status) s = i;
  requests_[static_cast<size_t>(e)][s].fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(const EngineCounters& engine, size_t queue_depth) {
  std::string out;
  out +=
      "# HELP qlm_requests_total HTTP requests answered, by endpoint and status\n"
      "# TYPE qlm_requests_total counter\n";
  for (size_t e = 0; e < requests_.size(); ++e)
    for (size_t s = 0; s < kStatuses.size(); ++s) {
      const uint64_t n = requests_[e][s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += cat(
          "qlm_requests_total{endpoint=\"", endpoint_path(static_cast<Endpoint>(e)), "\",status=\"",
          kStatuses[s] == 0 ? std::string("other") : std::to_string(kStatuses[s]), "\"} ", n, "\n");
    }
  const int64_t tokens = engine.generated_tokens.load();
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  const int64_t before_tokens = last_tokens_.exchange(tokens);
  const int64_t before_ns = last_render_ns_.exchange(now);
  const double tok_s =
      before_ns == 0 ? 0.0 : (tokens - before_tokens) / std::max(1e-9, (now - before_ns) * 1e-9);
  auto gauge = [&](const char* name, const char* type, const char* help, auto value) {
    out +=
        cat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ", value, "\n");
  };
  gauge("qlm_requests_in_flight", "gauge", "HTTP generation requests being answered",
        in_flight_.load());
  gauge("qlm_prompt_tokens_total", "counter",
        "Prompt tokens (once per prompt, whatever n is; those from the prefix cache too)",
        engine.prompt_tokens.load());
  gauge("qlm_prefix_cache_hit_tokens_total", "counter",
        "Prompt tokens copied from the prefix cache instead of prefilled",
        engine.cached_prompt_tokens.load());
  gauge("qlm_prefix_cache_bytes", "gauge", "K/V memory the prefix cache holds for later prompts",
        engine.prefix_cache_bytes.load());
  gauge("qlm_generation_tokens_total", "counter", "Tokens generated", tokens);
  gauge("qlm_prefills_total", "counter", "Prompts prefilled", engine.prefills.load());
  gauge("qlm_engine_steps_total", "counter", "Batched forward passes", engine.steps.load());
  gauge("qlm_queue_depth", "gauge", "Requests waiting for a batch slot", queue_depth);
  gauge("qlm_batch_size", "gauge", "Sequences decoding in the batch", engine.active.load());
  gauge("qlm_tokens_per_second", "gauge", "Generated tokens per second since the previous scrape",
        tok_s);
  gauge("qlm_client_disconnects_total", "counter", "Streams cancelled because the client went away",
        disconnects_.load());
  gauge("qlm_weight_updates_total", "counter", "Weight updates applied", weight_updates_.load());
  latency_.render(out, "qlm_request_duration_seconds",
                  "Generation request latency, receipt to last byte");
  first_token_.render(out, "qlm_time_to_first_token_seconds",
                      "Submission to first generated token");
  return out;
}

}  // namespace qlm::serve
