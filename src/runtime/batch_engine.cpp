// The scheduler: admission (prefill in chunks, fork into samples), batched decode steps,
// cancellation and engine-thread tasks.
#include "runtime/batch_engine.h"

#include <algorithm>
#include <cstdio>
#include <exception>

#include "base/error.h"
#include "base/memory_stats.h"
#include "runtime/token_ids.h"

namespace qlm {

uint64_t sample_seed(uint64_t seed, const std::string& request_id, int sample) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the id, then mixed with seed and sample
  for (unsigned char c : request_id) h = (h ^ c) * 1099511628211ull;
  uint64_t z = seed ^ h ^ (static_cast<uint64_t>(sample) * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct BatchEngine::Sequence {
  uint64_t ticket = 0;
  std::shared_ptr<const EngineRequest> request;  // shared by the request's samples
  std::shared_ptr<KVCache> cache;                // a fork of the prompt's, or the prompt's own
  std::unique_ptr<Sampler> sampler;
  Completion done;
  int next_token = -1;  // sampled, not yet run through the model
  Timer timer;          // from the prompt's admission
};

// A prompt being prefilled chunk by chunk.
struct BatchEngine::Admission {
  uint64_t ticket = 0;
  std::shared_ptr<const EngineRequest> request;
  std::shared_ptr<KVCache> cache;  // outlives the admission while forks share its spans
  size_t prefilled = 0;
  int chunk = 0;         // rows in the current step
  bool started = false;  // the prefix cache was consulted (before the first chunk)
  int cached = 0;        // prompt positions copied from the prefix cache
  Timer timer;
};

BatchEngine::BatchEngine(const Transformer& model, EngineOptions options)
    : model_(model),
      options_(options),
      queue_(options.max_waiting),
      max_rows_(std::max(options.max_batch, options.prefill_chunk)),
      scratch_(model.make_scratch(max_rows_)),
      logits_(static_cast<size_t>(max_rows_) * model.config().vocab_size),
      row_logits_(model.config().vocab_size),
      prefix_cache_(model.config(), options.prefix_cache_bytes),
      weights_version_(model.weights_version()) {
  if (options_.max_batch < 1) fail("--max-batch: must be at least 1");
  if (options_.prefill_chunk < 1) fail("prefill chunk: must be at least 1");
  if (!(options_.kv_budget_bytes >= 0)) fail("--kv-cache-memory: must be at least 0");
  if (!(options_.prefix_cache_bytes >= 0)) fail("--prefix-cache-memory: must be at least 0");
  kv_budget_ = options_.kv_budget_bytes > 0 ? options_.kv_budget_bytes
                                            : 0.8 * static_cast<double>(available_memory_bytes());
  if (kv_budget_ <= 0) kv_budget_ = 1e300;  // no /proc/meminfo: no limit
}

int BatchEngine::sample_capacity(const EngineRequest& r) const {
  return std::min(model_.config().max_position_embeddings,
                  static_cast<int>(r.prompt_ids.size()) + r.params.max_new_tokens + 1);
}

int BatchEngine::prompt_capacity(const EngineRequest& r) const {
  // A single sample keeps the prompt's cache, so it gets the room for its completion now.
  return r.samples.size() == 1
             ? sample_capacity(r)
             : std::min(model_.config().max_position_embeddings, static_cast<int>(r.prompt_ids.size()) + 1);
}

size_t BatchEngine::kv_need(const EngineRequest& r) const {
  const ModelConfig& cfg = model_.config();
  size_t need = KVCache::bytes_for(cfg, prompt_capacity(r), model_.kv_dtype());
  const int shared = KVCache::shared_positions(static_cast<int>(r.prompt_ids.size()));
  if (r.samples.size() > 1)
    need += r.samples.size() * KVCache::bytes_for(cfg, sample_capacity(r), model_.kv_dtype(), shared);
  return need;
}

size_t BatchEngine::kv_reserved() const {
  size_t total = 0;
  std::vector<const KVCache*> prompts;  // shared by forks: counted once
  for (const auto& q : active_) {
    total += q->cache->bytes();
    const KVCache* p = q->cache->prompt();
    if (p != nullptr && std::find(prompts.begin(), prompts.end(), p) == prompts.end()) {
      prompts.push_back(p);
      total += p->bytes();
    }
  }
  for (const auto& a : admitting_) total += kv_need(*a->request);
  return total;
}

BatchEngine::~BatchEngine() = default;

uint64_t BatchEngine::submit(EngineRequest r) {
  const ModelConfig& cfg = model_.config();
  const int n = static_cast<int>(r.prompt_ids.size());
  if (n == 0) fail("request '", r.id, "': the prompt is empty");
  if (n + 1 > cfg.max_position_embeddings)
    fail("request '", r.id, "': the prompt (", n, " tokens) does not fit the context of ",
         cfg.max_position_embeddings);
  check_token_ids(r.prompt_ids, cfg.vocab_size, cat("request '", r.id, "'"));
  if (r.samples.empty()) fail("request '", r.id, "': no samples to make");
  // More samples than max_batch run alone (admitted into an empty batch), but their decode rows
  // must fit the scratch buffers.
  if (static_cast<int>(r.samples.size()) > max_rows_)
    fail("request '", r.id, "': ", r.samples.size(), " samples exceed the ", max_rows_,
         " rows of a step; raise --max-batch");
  if (r.params.max_new_tokens < 1) fail("request '", r.id, "': max_new_tokens must be at least 1");
  if (r.params.top_logprobs < 0 || r.params.top_logprobs > cfg.vocab_size)
    fail("request '", r.id, "': top_logprobs must be in [0, ", cfg.vocab_size, "]");
  validate(r.params.sampling);
  r.submitted.reset();
  const uint64_t ticket = next_ticket_.fetch_add(1);
  return queue_.push(ticket, std::make_unique<EngineRequest>(std::move(r))) ? ticket : 0;
}

void BatchEngine::cancel(uint64_t ticket) {
  queue_.cancel(ticket);
}

void BatchEngine::cancel_all() {
  queue_.cancel_all();
}

void BatchEngine::post_task(EngineTask task) {
  queue_.push_task(std::move(task));
}

void BatchEngine::stop() {
  queue_.close();
}

void BatchEngine::finish(Sequence& q, const char* reason) {
  q.done.finish_reason = reason;
  q.done.seconds = q.timer.seconds();
  // A single sample's cache (its prompt's own) now holds prompt + reply: what the next turn of
  // a chat starts with. (The N samples of a prompt would add N entries for little.)
  if (q.request->samples.size() == 1 && q.cache->first_position() == 0) {
    std::vector<int> ids = q.request->prompt_ids;
    ids.insert(ids.end(), q.done.ids.begin(), q.done.ids.end());
    prefix_cache_.insert(std::move(ids), q.cache, q.cache->size());
  }
  if (q.request->on_complete) q.request->on_complete(q.done);
}

void BatchEngine::apply_cancellations() {
  std::vector<std::pair<uint64_t, std::unique_ptr<EngineRequest>>> removed;
  const auto tickets = queue_.take_cancelled(removed);
  if (tickets.empty()) return;
  auto report = [](const EngineRequest& r) {  // samples that never started
    for (int k : r.samples) {
      Completion c{.request = r.tag, .sample = k, .finish_reason = "cancelled"};
      if (r.on_complete) r.on_complete(c);
    }
  };
  for (auto& [ticket, r] : removed) report(*r);
  std::vector<std::unique_ptr<Admission>> kept;
  for (auto& a : admitting_) {
    if (tickets.has(a->ticket)) {
      admitting_samples_ -= static_cast<int>(a->request->samples.size());
      report(*a->request);
    } else {
      kept.push_back(std::move(a));
    }
  }
  admitting_ = std::move(kept);
  std::vector<std::unique_ptr<Sequence>> still;
  for (auto& q : active_) {
    if (tickets.has(q->ticket))
      finish(*q, "cancelled");
    else
      still.push_back(std::move(q));
  }
  active_ = std::move(still);
  publish_counts();
}

void BatchEngine::publish_counts() {
  counters_.active.store(static_cast<int>(active_.size()), std::memory_order_relaxed);
  counters_.admitting.store(static_cast<int>(admitting_.size()), std::memory_order_relaxed);
  counters_.prefix_cache_bytes.store(static_cast<int64_t>(prefix_cache_.bytes()), std::memory_order_relaxed);
}

bool BatchEngine::admit_waiting() {
  if (queue_.exclusive_pending()) return false;  // let the batch drain for the exclusive task
  bool any = false;
  while (true) {
    const int busy = static_cast<int>(active_.size()) + admitting_samples_;
    const double reserved = static_cast<double>(kv_reserved());
    bool budget_held = false;
    auto next = queue_.pop_if([&](const EngineRequest& r) {
      if (busy == 0) return true;
      if (busy + static_cast<int>(r.samples.size()) > options_.max_batch) return false;
      budget_held = reserved + static_cast<double>(kv_need(r)) > kv_budget_;
      return !budget_held;
    });
    if (budget_held) counters_.kv_budget_waits.fetch_add(1, std::memory_order_relaxed);
    if (!next) return any;
    auto a = std::make_unique<Admission>();
    a->ticket = next->first;
    a->request = std::shared_ptr<const EngineRequest>(std::move(next->second));
    a->cache = std::make_shared<KVCache>(model_.config(), prompt_capacity(*a->request), model_.kv_dtype());
    admitting_samples_ += static_cast<int>(a->request->samples.size());
    admitting_.push_back(std::move(a));
    // Cached prefixes give way to admitted work.
    prefix_cache_.shrink_to(kv_budget_ - static_cast<double>(kv_reserved()));
    any = true;
  }
}

// Chooses a sequence's next token from its logits and records it; true when it has finished.
bool BatchEngine::step_sequence(Sequence& q, const float* lg) {
  std::copy_n(lg, row_logits_.size(), row_logits_.data());  // the sampler edits its logits
  return record_choice(q, q.sampler->sample(row_logits_.data(), q.request->params.top_logprobs));
}

// Records a sampled token (callbacks run here, on the engine thread); true when finished.
bool BatchEngine::record_choice(Sequence& q, TokenChoice c) {
  const SequenceParams& p = q.request->params;
  if (q.done.ids.empty()) q.done.first_token_seconds = q.request->submitted.seconds();
  q.done.ids.push_back(c.id);
  q.done.logprobs.push_back(p.logprobs == LogprobMode::Raw ? c.logprob_raw : c.logprob_processed);
  if (p.top_logprobs > 0) q.done.top.push_back(std::move(c.top));
  q.next_token = c.id;
  counters_.generated_tokens.fetch_add(1, std::memory_order_relaxed);
  const bool keep_going = !q.request->on_token || q.request->on_token(q.done);
  const bool stop =
      !keep_going || std::find(p.stop_ids.begin(), p.stop_ids.end(), c.id) != p.stop_ids.end();
  const bool full = static_cast<int>(q.done.ids.size()) >= p.max_new_tokens ||
                    q.cache->size() + 1 >= q.cache->capacity();
  if (stop || full) {
    finish(q, stop ? "stop" : "length");
    return true;
  }
  return false;
}

// Prompts sharing at least this many tokens with an earlier one still being prefilled wait for
// it, then copy them: a few-shot preamble is computed once, not once per prompt admitted with
// it. Shorter shared prefixes (a chat template's system prompt) are not worth the delay.
constexpr int kWaitForSharedPrefix = 256;

bool BatchEngine::start_from_prefix_cache(Admission& a) {
  const std::vector<int>& ids = a.request->prompt_ids;
  const int limit = static_cast<int>(ids.size()) - 1;  // the last token runs: its logits
  if (prefix_cache_.enabled()) {
    const PrefixCache::Hit hit = prefix_cache_.lookup(ids, limit);
    for (const auto& b : admitting_) {
      if (b.get() == &a) break;  // only earlier ones, which get their rows first
      const std::vector<int>& other = b->request->prompt_ids;
      if (b->prefilled == other.size()) continue;
      const int shared = static_cast<int>(common_prefix(ids, other, static_cast<size_t>(limit)));
      if (shared >= kWaitForSharedPrefix && shared > hit.positions) return false;
    }
    if (hit.cache && hit.cache->dtype() == a.cache->dtype()) {
      a.cache->copy_prefix_from(*hit.cache, hit.positions);
      a.prefilled = static_cast<size_t>(hit.positions);
      a.cached = hit.positions;
    }
  }
  a.started = true;
  return true;
}

// A fully prefilled prompt forks into its samples, which take their first token now. The forks
// share the prompt cache's whole spans and copy the rest.
void BatchEngine::fork_samples(Admission& a, const float* lg) {
  const EngineRequest& r = *a.request;
  const ModelConfig& cfg = model_.config();
  const int n = static_cast<int>(r.prompt_ids.size());
  const int cap = sample_capacity(r);
  const std::shared_ptr<const KVCache> prompt = a.cache;
  counters_.prefills.fetch_add(1, std::memory_order_relaxed);
  counters_.prompt_tokens.fetch_add(n, std::memory_order_relaxed);
  counters_.cached_prompt_tokens.fetch_add(a.cached, std::memory_order_relaxed);
  // Positions below n are never written again, so even a single sample's cache, which goes on
  // to hold its reply, serves prompts admitted from now on.
  prefix_cache_.insert(r.prompt_ids, prompt, n);
  for (int k : r.samples) {
    auto q = std::make_unique<Sequence>();
    q->ticket = a.ticket;
    q->request = a.request;
    if (r.samples.size() == 1) {
      q->cache = std::move(a.cache);
    } else {
      q->cache = std::make_shared<KVCache>(prompt, n, cap);
    }
    SamplingParams sp = r.params.sampling;
    sp.seed = sample_seed(r.params.sampling.seed, r.id, k);
    q->sampler = std::make_unique<Sampler>(sp, cfg.vocab_size, r.prompt_ids);
    q->done.request = r.tag;
    q->done.sample = k;
    q->done.cached_prompt_tokens = a.cached;
    q->timer = a.timer;
    if (!step_sequence(*q, lg)) active_.push_back(std::move(q));
  }
}

bool BatchEngine::step() {
  apply_cancellations();
  bool worked = false;
  while (auto task = queue_.pop_task(active_.empty() && admitting_.empty())) {
    try {
      task->run();
    } catch (
        const std::exception& e) {  // tasks report their own errors; never let one stop the engine
      std::fprintf(stderr, "qlm: engine task failed: %s\n", e.what());
    }
    worked = true;
  }
  if (model_.weights_version() != weights_version_) {  // a weight sync: the cached K/V are stale
    prefix_cache_.clear();
    weights_version_ = model_.weights_version();
  }
  admit_waiting();

  // One forward: a decode row for every active sequence, then prefill chunks in arrival order.
  const int V = model_.config().vocab_size;
  scratch_.rows.clear();
  scratch_.logit_rows.clear();
  for (auto& q : active_) {
    scratch_.logit_rows.push_back(static_cast<int>(scratch_.rows.size()));
    scratch_.rows.push_back(BatchRow{q->cache.get(), q->cache->size(), q->next_token});
  }
  int budget = std::min(options_.prefill_chunk, max_rows_ - static_cast<int>(scratch_.rows.size()));
  std::vector<Admission*> completing;  // prompts whose last row is in this step, in logit order
  for (auto& a : admitting_) {
    const std::vector<int>& ids = a->request->prompt_ids;
    a->chunk = 0;
    if (!a->started && (budget <= 0 || !start_from_prefix_cache(*a))) continue;
    a->chunk = static_cast<int>(
        std::min<size_t>(static_cast<size_t>(std::max(budget, 0)), ids.size() - a->prefilled));
    for (int i = 0; i < a->chunk; ++i)
      scratch_.rows.push_back(
          BatchRow{a->cache.get(), static_cast<int>(a->prefilled) + i, ids[a->prefilled + i]});
    budget -= a->chunk;
    if (a->chunk > 0 && a->prefilled + a->chunk == ids.size()) {
      scratch_.logit_rows.push_back(static_cast<int>(scratch_.rows.size()) - 1);
      completing.push_back(a.get());
    }
  }
  if (scratch_.rows.empty()) return worked;
  int seen = counters_.max_batch_seen.load(std::memory_order_relaxed);
  if (static_cast<int>(active_.size()) > seen)
    counters_.max_batch_seen.store(static_cast<int>(active_.size()));
  model_.forward_batch(scratch_, logits_.data());
  counters_.steps.fetch_add(1, std::memory_order_relaxed);

  // Decode rows: sample, and retire finished sequences.
  // Each sequence samples with its own sampler and RNG, so the rows sample in parallel (in
  // place: these logits are not needed afterwards) with results independent of the threads.
  // At a full vocabulary per token this is a large share of a batched step.
  const size_t decoded = active_.size();
  choices_.resize(decoded);
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) if (decoded > 1)
  for (size_t i = 0; i < decoded; ++i) {
    try {
      choices_[i] = active_[i]->sampler->sample(&logits_[i * V], active_[i]->request->params.top_logprobs);
    } catch (...) {
#pragma omp critical(qlm_sample_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  std::vector<std::unique_ptr<Sequence>> still;
  for (size_t i = 0; i < decoded; ++i)
    if (!record_choice(*active_[i], std::move(choices_[i]))) still.push_back(std::move(active_[i]));
  active_ = std::move(still);

  for (auto& a : admitting_) a->prefilled += a->chunk;
  for (size_t j = 0; j < completing.size(); ++j) {
    fork_samples(*completing[j], &logits_[(decoded + j) * V]);
    admitting_samples_ -= static_cast<int>(completing[j]->request->samples.size());
  }
  std::erase_if(admitting_, [](const std::unique_ptr<Admission>& a) {
    return a->prefilled == a->request->prompt_ids.size();
  });
  publish_counts();
  return true;
}

void BatchEngine::run_until_idle(const std::function<void()>& after_step) {
  while (step() || queue_.waiting() > 0)
    if (after_step) after_step();
}

void BatchEngine::serve() {
  while (true) {
    if (step()) continue;
    if (!queue_.wait_for_work()) break;
  }
}

}  // namespace qlm
