// qlm serve: the OpenAI-compatible HTTP server; prints its URL on stdout once ready.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "flag_checks.h"
#include "serve/server.h"

namespace qlm::cli {

namespace {

struct ServeFlags {
  std::string model;
  serve::ServerOptions options;
  int max_queue = 64;
  int max_body_kb = 1024;
  double kv_cache_memory_gib = 0;
  double prefix_cache_memory_gib = 1;
};

}  // namespace

void add_serve(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "OpenAI-compatible HTTP server: /v1/completions, /v1/chat/completions (SSE streaming), "
      "/v1/models,\n"
      "/health, /metrics (Prometheus), and the qlm extensions /v1/score (teacher-forced log-probs) "
      "and\n"
      "/v1/weights (load updated tensors; --allow-weight-updates). All requests share one "
      "continuously\n"
      "batched engine; n samples of a prompt share its prefill. Extensions in request bodies:\n"
      "return_token_ids, ignore_eos, stop_token_ids, top_k, min_p, repetition_penalty, "
      "logprobs_mode.\n"
      "Scale out with several replicas behind nginx: deploy/nginx/qlm.conf.");
  cmd->add_option("-m,--model", f->model, "Model folder")->required();
  cmd->add_option("--host", f->options.host,
                  "Address to listen on (use 0.0.0.0 to accept remote clients)")
      ->capture_default_str();
  cmd->add_option("--port", f->options.port,
                  "Port (0 = any free port; the URL is printed when ready)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", f->options.api_key,
                  "Require 'Authorization: Bearer KEY' on /v1/* (env: QLM_API_KEY)")
      ->envname("QLM_API_KEY");
  cmd->add_option("--served-model-name", f->options.model_name,
                  "Model id in /v1/models (default: the folder name)");
  cmd->add_option("--max-batch", f->options.max_batch, "Sequences decoding at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--kv-cache-memory", f->kv_cache_memory_gib,
                  "GiB the running requests' KV caches may take at worst (all at max_tokens); a request "
                  "waits while it would pass this (0 = 80% of the memory available at start)")
      ->capture_default_str()
      ->check(gib_amount());
  cmd->add_option("--prefix-cache-memory", f->prefix_cache_memory_gib,
                  "GiB of finished requests' KV caches kept so that a prompt starting with the same tokens "
                  "(the next turn of a chat, a shared preamble) copies them instead of computing them "
                  "again; results are unchanged; usage.prompt_tokens_details.cached_tokens counts them "
                  "(0 = off)")
      ->capture_default_str()
      ->check(gib_amount("off"));
  cmd->add_option("--max-queue", f->max_queue,
                  "Requests waiting for a batch slot; beyond this: 429 + Retry-After")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-n", f->options.limits.max_n,
                  "Largest n (samples per prompt) a request may ask")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--default-max-tokens", f->options.limits.default_max_tokens,
                  "max_tokens when a request gives none (clamped to the context)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-body-kb", f->max_body_kb, "Largest JSON request body, KiB (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--allow-weight-updates", f->options.allow_weight_updates,
                "Enable POST /v1/weights (a safetensors body of tensors by Hugging Face name)");
  cmd->add_option(
         "--shutdown-timeout", f->options.shutdown_timeout,
         "Seconds in-flight requests get to finish after SIGTERM before they are cancelled")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option(
         "--http-threads", f->options.http_threads,
         "Connection threads (0 = max-batch + max-queue + 16; each open connection holds one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  cmd->callback([f, cmd] {
    // The default n cap follows a small --max-batch; an explicit --max-n above it is an error.
    if (cmd->count("--max-n") == 0)
      f->options.limits.max_n = std::min(f->options.limits.max_n, f->options.max_batch);
    f->options.max_queue = static_cast<size_t>(f->max_queue);
    f->options.kv_budget_bytes = f->kv_cache_memory_gib * kBytesPerGiB;
    f->options.prefix_cache_bytes = f->prefix_cache_memory_gib * kBytesPerGiB;
    f->options.max_body = static_cast<size_t>(f->max_body_kb) * 1024;
    const int status = serve::run_server(f->model, f->options, [](const std::string& url) {
      std::printf("qlm serve: listening on %s\n", url.c_str());
      std::fflush(stdout);
    });
    if (status != 0) std::exit(status);
  });
}

}  // namespace qlm::cli
