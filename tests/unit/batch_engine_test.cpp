// BatchEngine and its RequestQueue: the queue's bound, cancellation of waiting requests and
// exclusive tasks; on stories260K (../shared/data), requests with different parameters in one
// batch give what each gives alone, per-token callbacks can stop a sample, cancellation ends
// running samples, and an exclusive task runs only once the batch is empty.
#include "runtime/batch_engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "base/error.h"
#include "runtime/request_queue.h"

namespace qlm {
namespace {

TEST(RequestQueue, BoundCancelAndExclusiveTasks) {
  RequestQueue<int> q(2);
  EXPECT_TRUE(q.push(1, std::make_unique<int>(10)));
  EXPECT_TRUE(q.push(2, std::make_unique<int>(20)));
  EXPECT_FALSE(q.push(3, std::make_unique<int>(30)));  // full
  q.cancel(1);
  std::vector<std::pair<uint64_t, std::unique_ptr<int>>> removed;
  auto c = q.take_cancelled(removed);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(*removed[0].second, 10);
  EXPECT_TRUE(c.has(1) && !c.has(2));
  EXPECT_EQ(q.waiting(), 1u);
  EXPECT_FALSE(q.pop_if([](const int& v) { return v < 20; }));  // the front is not admitted
  auto got = q.pop_if([](const int&) { return true; });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first, 2u);
  q.push_task(EngineTask{.run = [] {}, .exclusive = true});
  EXPECT_TRUE(q.exclusive_pending());
  EXPECT_FALSE(q.pop_task(/*idle=*/false));
  EXPECT_TRUE(q.pop_task(/*idle=*/true));
  q.close();
  EXPECT_FALSE(q.push(4, std::make_unique<int>(40)));
  EXPECT_FALSE(q.wait_for_work());
}

std::string stories() {
  const std::string dir = std::string(QLM_SHARED_DATA) + "/models/stories260K";
  return std::filesystem::exists(dir) ? dir : "";
}

struct Result {
  std::vector<int> ids;
  std::vector<float> logprobs;
  std::string finish;
};

EngineRequest make(const std::string& id, std::vector<int> prompt, int n, float temperature,
                   int max_tokens, std::map<std::pair<size_t, int>, Result>& out, size_t tag) {
  EngineRequest r{.id = id, .tag = tag, .prompt_ids = std::move(prompt)};
  for (int k = 0; k < n; ++k) r.samples.push_back(k);
  r.params.max_new_tokens = max_tokens;
  r.params.sampling.temperature = temperature;
  r.params.sampling.seed = 42;
  r.on_complete = [&out](const Completion& c) {
    out[{c.request, c.sample}] = Result{c.ids, c.logprobs, c.finish_reason};
  };
  return r;
}

TEST(BatchEngine, MixedParamsEqualAloneAndCancel) {
  if (stories().empty()) GTEST_SKIP() << "shared data not found: stories260K";
  auto model = Transformer::load(stories());
  std::map<std::pair<size_t, int>, Result> batched, alone;
  {
    BatchEngine e(*model, EngineOptions{.max_batch = 8});
    ASSERT_NE(e.submit(make("a", {1, 50, 60}, 1, 0.0f, 12, batched, 0)), 0u);
    ASSERT_NE(e.submit(make("b", {1, 70}, 3, 0.9f, 9, batched, 1)), 0u);
    ASSERT_NE(e.submit(make("c", {1, 80, 81, 82, 83}, 2, 1.3f, 5, batched, 2)), 0u);
    e.run_until_idle();
    EXPECT_EQ(e.counters().prefills.load(), 3);
  }
  {
    BatchEngine e(*model, EngineOptions{.max_batch = 1});  // one sequence at a time
    for (auto& r :
         {make("a", {1, 50, 60}, 1, 0.0f, 12, alone, 0), make("b", {1, 70}, 3, 0.9f, 9, alone, 1),
          make("c", {1, 80, 81, 82, 83}, 2, 1.3f, 5, alone, 2)}) {
      e.submit(r);
      e.run_until_idle();
    }
  }
  ASSERT_EQ(batched.size(), 6u);
  for (auto& [key, r] : batched) {
    EXPECT_EQ(r.ids, alone[key].ids);
    EXPECT_EQ(r.logprobs, alone[key].logprobs);
  }
  EXPECT_EQ(batched[std::make_pair(size_t{0}, 0)].ids.size(), 12u);
  EXPECT_EQ(batched[std::make_pair(size_t{2}, 1)].ids.size(), 5u);

  // on_token returning false stops that sample; cancel() ends a running request.
  BatchEngine e(*model, EngineOptions{.max_batch = 4});
  std::map<std::pair<size_t, int>, Result> out;
  EngineRequest stopper = make("s", {1, 50}, 1, 0.0f, 50, out, 0);
  stopper.on_token = [](const Completion& c) { return c.ids.size() < 3; };
  e.submit(stopper);
  const uint64_t long_one = e.submit(make("l", {1, 60}, 2, 0.0f, 200, out, 1));
  for (int i = 0; i < 5; ++i) e.step();
  e.cancel(long_one);
  bool ran_idle = false;
  e.post_task(
      EngineTask{.run = [&] { ran_idle = e.counters().active.load() == 0; }, .exclusive = true});
  e.run_until_idle();
  EXPECT_EQ(out[std::make_pair(size_t{0}, 0)].ids.size(), 3u);
  EXPECT_EQ(out[std::make_pair(size_t{0}, 0)].finish, "stop");
  EXPECT_EQ(out[std::make_pair(size_t{1}, 0)].finish, "cancelled");
  EXPECT_LT(out[std::make_pair(size_t{1}, 1)].ids.size(), 200u);
  EXPECT_TRUE(ran_idle);
}

TEST(BatchEngine, SamplesOfALongPromptShareItsSpansAndEqualAnUnforkedSample) {
  // A 300-token prompt forks into samples sharing its first span (256 positions); each must
  // give the ids and log-probs it gives as a request of that one sample, which decodes in the
  // prompt's own cache (no fork), with the F32 and the F16 cache.
  if (stories().empty()) GTEST_SKIP() << "shared data not found: stories260K";
  auto model = Transformer::load(stories());
  std::vector<int> prompt{1};
  for (int i = 1; i < 300; ++i) prompt.push_back(3 + (i * 37) % 500);
  for (KvDtype d : {KvDtype::f32, KvDtype::f16}) {
    model->set_kv_dtype(d);
    std::map<std::pair<size_t, int>, Result> forked, single;
    BatchEngine e(*model, EngineOptions{.max_batch = 8});
    e.submit(make("long", prompt, 4, 1.0f, 40, forked, 0));
    e.run_until_idle();
    EXPECT_EQ(e.counters().prefills.load(), 1);
    for (int k = 0; k < 4; ++k) {
      EngineRequest r = make("long", prompt, 1, 1.0f, 40, single, 0);
      r.samples = {k};  // sample k's seed, alone
      e.submit(std::move(r));
      e.run_until_idle();
    }
    ASSERT_EQ(forked.size(), 4u);
    for (auto& [key, r] : forked) {
      EXPECT_EQ(r.ids, single[key].ids) << kv_dtype_name(d) << " sample " << key.second;
      EXPECT_EQ(r.logprobs, single[key].logprobs) << kv_dtype_name(d) << " sample " << key.second;
      EXPECT_EQ(r.ids.size(), 40u);
    }
    EXPECT_NE(forked[std::make_pair(size_t{0}, 0)].ids, forked[std::make_pair(size_t{0}, 1)].ids);  // T = 1
  }
}

TEST(BatchEngine, PromptsSharingAPrefixCopyItAndGiveWhatAFreshPrefillGives) {
  // Four prompts share a 280-token preamble (a few-shot prompt): the first computes it, the
  // others wait for it and copy it from the prefix cache. Every sample must equal what an engine
  // without the cache gives, bit for bit (F32 and F16 caches). Then a second turn: the first
  // turn's prompt + reply + more tokens copies all the first turn's positions.
  if (stories().empty()) GTEST_SKIP() << "shared data not found: stories260K";
  auto model = Transformer::load(stories());
  std::vector<int> preamble{1};
  for (int i = 1; i < 280; ++i) preamble.push_back(3 + (i * 53) % 400);
  for (KvDtype d : {KvDtype::f32, KvDtype::f16}) {
    model->set_kv_dtype(d);
    std::map<std::pair<size_t, int>, Result> out[2];
    int64_t cached[2];
    for (int use : {0, 1}) {
      BatchEngine e(*model, EngineOptions{.max_batch = 8, .prefix_cache_bytes = use ? 1e9 : 0.0});
      for (size_t i = 0; i < 4; ++i) {
        std::vector<int> p = preamble;
        for (int j = 0; j < 5 + int(i); ++j) p.push_back(20 + int(i) * 7 + j);
        e.submit(make("p" + std::to_string(i), p, 2, 1.0f, 12, out[use], i));
      }
      e.run_until_idle();
      EXPECT_EQ(e.counters().prefills.load(), 4);
      cached[use] = e.counters().cached_prompt_tokens.load();
    }
    EXPECT_EQ(cached[0], 0);
    EXPECT_EQ(cached[1], 3 * 280) << kv_dtype_name(d);
    ASSERT_EQ(out[1].size(), 8u);
    for (auto& [key, r] : out[1]) {
      EXPECT_EQ(r.ids, out[0][key].ids) << kv_dtype_name(d) << " prompt " << key.first;
      EXPECT_EQ(r.logprobs, out[0][key].logprobs) << kv_dtype_name(d) << " prompt " << key.first;
    }

    // Second turn (one sample, greedy): prompt + reply + 4 tokens.
    std::map<std::pair<size_t, int>, Result> turn[2];
    for (int use : {0, 1}) {
      BatchEngine e(*model, EngineOptions{.max_batch = 8, .prefix_cache_bytes = use ? 1e9 : 0.0});
      std::vector<int> first(preamble.begin(), preamble.begin() + 40);
      e.submit(make("t1", first, 1, 0.0f, 10, turn[use], 0));
      e.run_until_idle();
      std::vector<int> second = first;
      const std::vector<int>& reply = turn[use][std::make_pair(size_t{0}, 0)].ids;
      second.insert(second.end(), reply.begin(), reply.end());
      for (int t : {30, 31, 32, 33}) second.push_back(t);
      e.submit(make("t2", second, 1, 0.0f, 10, turn[use], 1));
      e.run_until_idle();
      // The reply's last token was sampled, never run: 40 + 10 - 1 positions are cached.
      EXPECT_EQ(e.counters().cached_prompt_tokens.load(), use ? 49 : 0);
      // A weight sync (here: marked, no change) drops the cache.
      model->mark_weights_changed();
      e.submit(make("t3", second, 1, 0.0f, 10, turn[use], 2));
      e.run_until_idle();
      EXPECT_EQ(e.counters().cached_prompt_tokens.load(), use ? 49 : 0);
    }
    for (size_t t = 0; t < 3; ++t) {
      const auto key = std::make_pair(t, 0);
      EXPECT_EQ(turn[1][key].ids, turn[0][key].ids) << kv_dtype_name(d) << " turn " << t;
      EXPECT_EQ(turn[1][key].logprobs, turn[0][key].logprobs) << kv_dtype_name(d) << " turn " << t;
    }
    EXPECT_EQ(turn[1][std::make_pair(size_t{2}, 0)].ids, turn[1][std::make_pair(size_t{1}, 0)].ids);
  }
}

TEST(BatchEngine, KvBudgetCountsEveryAdmittedSampleAtMaxTokens) {
  if (stories().empty()) GTEST_SKIP() << "shared data not found: stories260K";
  auto model = Transformer::load(stories());
  const ModelConfig& cfg = model->config();
  EXPECT_EQ(KVCache::bytes_for(cfg, 17, KvDtype::f16), KVCache(cfg, 17, KvDtype::f16).bytes());
  // A request of 3 samples, prompt 4, 10 new tokens needs 3 caches of 4 + 10 + 1 positions and,
  // while it forks, the prompt's own cache of 4 + 1.
  const size_t prompt = KVCache(cfg, 5).bytes(), need = 3 * KVCache(cfg, 15).bytes() + prompt;
  // 2·need: two requests run together (a third would pass it even after their prompts' caches
  // are gone). One byte less than 2·need - prompt: the second must wait for the first's samples.
  for (const auto& [budget, most] :
       {std::pair{2 * need, 6}, std::pair{2 * need - prompt, 6}, std::pair{2 * need - prompt - 1, 3}}) {
    std::map<std::pair<size_t, int>, Result> out;
    BatchEngine e(*model, EngineOptions{.max_batch = 16, .kv_budget_bytes = double(budget)});
    for (size_t i = 0; i < 3; ++i)
      e.submit(make(std::string(1, char('a' + i)), {1, 40, 41, int(42 + i)}, 3, 0.0f, 10, out, i));
    e.run_until_idle();
    EXPECT_EQ(out.size(), 9u);
    EXPECT_EQ(e.counters().max_batch_seen.load(), most) << "budget " << budget << " need " << need;
    EXPECT_GT(e.counters().kv_budget_waits.load(), 0);
  }
}

TEST(BatchEngine, ServeThreadAndQueueFull) {
  if (stories().empty()) GTEST_SKIP() << "shared data not found: stories260K";
  auto model = Transformer::load(stories());
  BatchEngine e(*model, EngineOptions{.max_batch = 2, .max_waiting = 1});
  std::map<std::pair<size_t, int>, Result> out;
  // Nothing consumes the queue yet: the second request is refused.
  EXPECT_NE(e.submit(make("x", {1, 5}, 1, 0.0f, 4, out, 0)), 0u);
  EXPECT_EQ(e.submit(make("y", {1, 6}, 1, 0.0f, 4, out, 1)), 0u);
  EXPECT_THROW(e.submit(make("z", {}, 1, 0.0f, 4, out, 2)), Error);  // empty prompt
  std::thread t([&] { e.serve(); });
  e.stop();  // serve() returns once what was admitted has finished
  t.join();
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out[std::make_pair(size_t{0}, 0)].ids.size(), 4u);
}

}  // namespace
}  // namespace qlm
