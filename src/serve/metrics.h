// Server metrics in the Prometheus text format: request counts by endpoint and status, tokens,
// queue depth, batch size, throughput, latency histograms. Lock-free: fixed label sets and
// relaxed atomics, so recording never waits (all locking stays in the request queue).
#pragma once

#include <array>
#include <atomic>
#include <string>

#include "runtime/batch_engine.h"

namespace qlm::serve {

enum class Endpoint { Completions, Chat, Score, Weights, Models, Health, Metrics, Other, kCount };
const char* endpoint_path(Endpoint e);

class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10,  30};
  void observe(double seconds);
  void render(std::string& out, const char* name, const char* help) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // the last is +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class Metrics {
 public:
  // Statuses counted one by one; anything else is counted as "other".
  static constexpr std::array<int, 11> kStatuses = {200, 400, 401, 403, 404, 405,
                                                    413, 429, 500, 503, 0};

  void count_request(Endpoint e, int status);
  void add_in_flight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  int in_flight() const { return in_flight_.load(); }
  void observe_latency(double seconds) { latency_.observe(seconds); }
  void observe_first_token(double seconds) { first_token_.observe(seconds); }
  void count_disconnect() { disconnects_.fetch_add(1, std::memory_order_relaxed); }
  void count_weight_update() { weight_updates_.fetch_add(1, std::memory_order_relaxed); }
  // The whole exposition; tok/s is measured since the previous render.
  std::string render(const EngineCounters& engine, size_t queue_depth);

 private:
  std::array<std::array<std::atomic<uint64_t>, kStatuses.size()>,
             static_cast<size_t>(Endpoint::kCount)>
      requests_{};
  std::atomic<int> in_flight_{0};
  std::atomic<uint64_t> disconnects_{0}, weight_updates_{0};
  Histogram latency_, first_token_;
  std::atomic<int64_t> last_tokens_{0};
  std::atomic<int64_t> last_render_ns_{0};
};

}  // namespace qlm::serve
