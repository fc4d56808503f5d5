// Every lock of the serving path lives here: the engine's inbox (requests waiting for a batch
// slot, cancellations, tasks to run on the engine thread) and the mailboxes through which the
// engine thread hands results to the threads that wait for them. Everything else is owned by
// one thread (the engine's scheduler) or is data-parallel inside a forward pass.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

namespace qlm {

// A job for the engine thread: between two decode steps, or (exclusive) once no sequence is
// active and none will be admitted until it has run (weight updates).
struct EngineTask {
  std::function<void()> run;
  bool exclusive = false;
};

// Requests of type R waiting for the engine, in arrival order, with a bound on how many may wait.
template <class R>
class RequestQueue {
 public:
  explicit RequestQueue(size_t max_waiting) : max_waiting_(max_waiting) {}

  // Producer side (any thread). False when max_waiting requests already wait, or after close().
  bool push(uint64_t ticket, std::unique_ptr<R> r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_ || waiting_.size() >= max_waiting_) return false;
      waiting_.push_back({ticket, std::move(r)});
    }
    wake_.notify_all();
    return true;
  }
  void cancel(uint64_t ticket) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_.insert(ticket);
    }
    wake_.notify_all();
  }
  void cancel_all() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancel_all_ = true;
    }
    wake_.notify_all();
  }
  void push_task(EngineTask task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    wake_.notify_all();
  }
  void close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    wake_.notify_all();
  }
  size_t waiting() const {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_.size();
  }

  // Consumer side (the engine thread only).
  // The first waiting request if `admit` accepts it (it sees the request, not yet removed).
  std::optional<std::pair<uint64_t, std::unique_ptr<R>>> pop_if(
      const std::function<bool(const R&)>& admit) {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiting_.empty() || !admit(*waiting_.front().second)) return std::nullopt;
    auto front = std::move(waiting_.front());
    waiting_.pop_front();
    return front;
  }
  // Tickets cancelled since the last call (all = every ticket); waiting requests among them
  // leave the queue and are returned in `removed` (the engine reports them as cancelled).
  struct Cancelled {
    std::set<uint64_t> tickets;
    bool all = false;
    bool has(uint64_t t) const { return all || tickets.count(t) > 0; }
    bool empty() const { return !all && tickets.empty(); }
  };
  Cancelled take_cancelled(std::vector<std::pair<uint64_t, std::unique_ptr<R>>>& removed) {
    std::lock_guard<std::mutex> lock(mu_);
    Cancelled out;
    out.tickets.swap(cancelled_);
    out.all = cancel_all_;
    cancel_all_ = false;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (out.has(it->first)) {
        removed.push_back(std::move(*it));
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }
  // The first task, if it may run now (exclusive ones only when `idle`).
  std::optional<EngineTask> pop_task(bool idle) {
    std::lock_guard<std::mutex> lock(mu_);
    if (tasks_.empty() || (tasks_.front().exclusive && !idle)) return std::nullopt;
    EngineTask t = std::move(tasks_.front());
    tasks_.pop_front();
    return t;
  }
  // True while an exclusive task waits: nothing new is admitted so that the batch drains.
  bool exclusive_pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return !tasks_.empty() && tasks_.front().exclusive;
  }
  // Blocks until there is something to do (a request, a cancellation, a task) or close().
  // Returns false once closed and nothing is left.
  bool wait_for_work() {
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait(lock, [&] {
      return closed_ || cancel_all_ || !waiting_.empty() || !cancelled_.empty() || !tasks_.empty();
    });
    return !(closed_ && waiting_.empty() && tasks_.empty());
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable wake_;
  size_t max_waiting_;
  bool closed_ = false;
  bool cancel_all_ = false;
  std::deque<std::pair<uint64_t, std::unique_ptr<R>>> waiting_;
  std::set<uint64_t> cancelled_;
  std::deque<EngineTask> tasks_;
};

// A one-reader mailbox: the engine thread posts, the waiting thread takes everything posted
// so far (never blocking the poster: a slow reader does not stall the batch).
template <class T>
class Mailbox {
 public:
  void post(T item) {
    bool was_empty;
    {
      std::lock_guard<std::mutex> lock(mu_);
      was_empty = items_.empty();
      items_.push_back(std::move(item));
    }
    // A reader behind is already woken (its wait sees items): no wake-up syscall per item.
    if (was_empty) ready_.notify_one();
  }
  // Waits up to `timeout` for items; returns those posted so far (possibly none).
  std::vector<T> take(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait_for(lock, timeout, [&] { return !items_.empty(); });
    std::vector<T> out;
    out.swap(items_);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_;
  std::vector<T> items_;
};

}  // namespace qlm
