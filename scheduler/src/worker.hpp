#pragma once
// One worker thread of a scheduler and the state only it owns. See scheduler/README.md for the
// order in which a worker looks for work and why.
#include <corio/detail/frame_cache.hpp>
#include "run_queue.hpp"
#include "stale_head.hpp"
#include "task_registry.hpp"

#include <corio/metrics.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

namespace corio {
struct worker_metrics;
class scheduler;
}

namespace corio::detail {

struct scheduler_core;
class worker;
extern constinit thread_local worker* current_worker_tls;

// A counter written only by its worker and read by metrics snapshots: a relaxed load+store
// instead of an atomic read-modify-write keeps it to a plain add on the hot path.
class owned_counter {
public:
  void add(std::uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> v_{0};
};

class alignas(64) worker {
public:
  worker(scheduler_core& core, std::size_t index);
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  void start();
  void join();

  // Called on this worker's own thread.
  void schedule_local(std::coroutine_handle<> h) noexcept;  // a wake-up: LIFO slot
  void push_behind_lifo(std::coroutine_handle<> h) noexcept { // a wake-up too
    maybe_probe(h);
    push_or_spill(h);
  }
  void yield_task(std::coroutine_handle<> h) noexcept;      // behind all queued work
  void defer(std::coroutine_handle<> h) noexcept { schedule_local(h); }
  void defer_to_end_of_turn(void (*fn)(void*), void* arg) { end_of_turn_.push_back({fn, arg}); }

  bool has_queued_work() const noexcept;

  // Called from the parking protocol (any thread).
  void unpark() noexcept;

  run_queue& queue() noexcept { return queue_; }
  registry_shard& registry() noexcept { return registry_; }
  scheduler_core& core() noexcept { return core_; }
  std::size_t index() const noexcept { return index_; }
  void fill_metrics(worker_metrics& m) const;
  // For the debug watchdog: the step counter and the coroutine now running (null when idle).
  std::uint64_t steps() const noexcept { return polled_.get(); }
  const void* running() const noexcept { return running_.load(std::memory_order_relaxed); }
  std::uint64_t spawned() const noexcept { return spawned_.get(); }
  // The worker thread's kernel id (0 before it started), for debug mode's lock diagnosis.
  int tid() const noexcept { return tid_.load(std::memory_order_relaxed); }

  // The worker running on the calling thread, if any.
  static worker* current() noexcept { return current_worker_tls; }

  // Own thread: if cancel_pending asked for a new sweep, cancels the unfinished tasks of this
  // worker's shard not asked yet and publishes how many are unfinished.
  void sweep_if_requested() noexcept;
  // Own thread: if all_tasks asked, adds this worker's tasks to its collector.
  void collect_if_requested() noexcept;
  // Any thread: asks the worker to look at the sweep/collect epochs after its current step
  // (rather than at its next periodic check, up to 61 steps later).
  void request_attention() noexcept { attention_.store(true, std::memory_order_release); }
  std::uint64_t collected_epoch() const noexcept { return collected_epoch_.load(std::memory_order_acquire); }
  // Any thread: the last epoch swept, and what that sweep counted.
  std::uint64_t swept_epoch() const noexcept { return swept_epoch_.load(std::memory_order_acquire); }
  std::size_t sweep_unfinished() const noexcept { return sweep_unfinished_.load(std::memory_order_relaxed); }

private:
  friend class corio::scheduler; // spawn_task's fast path
  void run();
  [[gnu::always_inline]] std::coroutine_handle<> next_local() noexcept; // run()'s step
  // The global-queue poll or stale check when due, and the LIFO slot; null: take the local queue.
  [[gnu::noinline]] std::coroutine_handle<> due_checks_and_lifo() noexcept;
  std::coroutine_handle<> take_global() noexcept;
  std::coroutine_handle<> take_stale() noexcept;
  // Takes the task `behind` places from the head of the local queue, leaving the ones in front.
  std::coroutine_handle<> take_from_front(std::uint32_t behind) noexcept;
  std::coroutine_handle<> steal_from_others() noexcept;
  std::coroutine_handle<> search() noexcept;
  void park() noexcept;
  void wait_for_token(const std::chrono::nanoseconds* timeout) noexcept; // futex wait while it is 0
  void push_or_spill(std::coroutine_handle<> h) noexcept {
    if (!queue_.push_back(h)) [[unlikely]]
      spill(h);
  }
  void spill(std::coroutine_handle<> h) noexcept;
  std::uint32_t next_random() noexcept;

  scheduler_core& core_;
  const std::size_t index_;
  run_queue queue_;
  registry_shard registry_;
  frame_cache frames_;
  std::coroutine_handle<> lifo_{};
  unsigned lifo_streak_ = 0;
  std::uint32_t steps_to_poll_; // next_local's countdown to the global-queue poll
  std::uint32_t rng_;
  bool searching_ = false;
  stale_head_watch stale_head_;
  std::optional<std::chrono::steady_clock::time_point> spilled_take_due_; // take_stale's rate
  bool stale_check_owed_ = false; // the last global-queue poll found work and skipped it
  std::atomic<std::uint64_t> swept_epoch_{0};
  std::atomic<std::uint64_t> collected_epoch_{0};
  std::atomic<bool> attention_{false};
  std::atomic<std::size_t> sweep_unfinished_{0};
  alignas(64) std::atomic<std::uint32_t> park_token_{0};
  std::atomic<const void*> running_{nullptr};
  std::atomic<int> tid_{0};
  std::thread thread_;
  struct deferred_call {
    void (*fn)(void*);
    void* arg;
  };
  std::vector<deferred_call> end_of_turn_;
  unsigned turn_steps_ = 0;
  void end_turn() noexcept;

  owned_counter polled_, stolen_, steal_ops_, parks_, unparks_, overflows_, lifo_hits_,
      global_pops_, spawned_;
  std::array<owned_counter, duration_histogram::size> poll_time_, schedule_latency_;
  std::uint32_t sample_tick_ = 0; // steps, for timing one in sample_interval
  // The schedule-latency probe: one sampled coroutine at a time and when it was made ready.
  const void* probe_ = nullptr;
  std::uint64_t probe_since_ = 0;
  std::uint32_t probe_tick_ = 0;
  void maybe_probe(std::coroutine_handle<> h) noexcept {
    if ((++probe_tick_ & (sample_interval - 1)) == 0) [[unlikely]]
      start_probe(h);
  }
  void start_probe(std::coroutine_handle<> h) noexcept;
  void check_inject_probe(const std::coroutine_handle<>* hs, std::size_t n) noexcept;

public:
  // One in this many steps is timed, and one in this many wake-ups is followed (a power of 2):
  // two clock reads per 64 steps keep the histograms under 1% of a ~150 ns task.
  static constexpr std::uint32_t sample_interval = 64;
};

} // namespace corio::detail
