#include "worker.hpp"

#include <corio/detail/cancel.hpp>
#include <corio/detail/debug_checks.hpp>
#include <corio/detail/task_names.hpp>

#include "scheduler_core.hpp"

#include <corio/detail/stack_guard.hpp>
#include <corio/detail/trace_points.hpp>
#include <corio/metrics.hpp>
#include <corio/trace.hpp>

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace corio::detail {

constinit thread_local char* stack_limit = nullptr;
constinit thread_local worker* current_worker_tls = nullptr;
constinit thread_local scheduler* current_scheduler_tls = nullptr;

namespace {

// Go's value: a prime, so the global-queue check does not fall into step with a workload's own
// period, and often enough that I/O completions wait at most ~61 steps behind local work.
constexpr std::uint32_t global_queue_interval = 61;
// The last searcher's second look before sleeping for good (park, idle.hpp): far longer than any
// store takes to become visible, short enough that a task missed in that race waits for no one.
constexpr std::chrono::nanoseconds recheck_after = std::chrono::milliseconds(1);
// tokio's cap: running the LIFO slot a few times in a row is enough for message-passing
// locality; more lets two tasks that wake each other starve everything queued behind them.
constexpr unsigned max_lifo_streak = 3;
// A turn ends when the worker has no local task ready, or after this many steps: deferred work
// (a connection's send) waits at most this long, and everything the steps in between wrote to
// one connection leaves in one send. 32 steps are a few tens of microseconds.
constexpr unsigned max_turn_steps = 32;
// Bytes of native stack a chain of symmetric transfers may use before the rest is deferred to
// the worker loop (stack_guard.hpp). 256 KiB is >5,000 transfers even unoptimised, far more than
// any real chain, and stays under TSan's 65,536-call shadow-stack limit.
constexpr std::size_t transfer_stack_budget = 256 * 1024;

void set_stack_limit() noexcept {
  char* here = static_cast<char*>(__builtin_frame_address(0));
  char* low = nullptr;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) low = static_cast<char*>(addr);
    pthread_attr_destroy(&attr);
  }
  std::size_t budget = transfer_stack_budget;
  // Never plan to use more than half of what is left (tiny stacks under some sanitizers).
  if (low && static_cast<std::size_t>(here - low) / 2 < budget) budget = static_cast<std::size_t>(here - low) / 2;
  stack_limit = here - budget;
}
} // namespace

void defer_to_worker(std::coroutine_handle<> h) noexcept {
  // Only reached on a worker (stack_limit is null elsewhere).
  current_worker_tls->defer(h);
}

worker::worker(scheduler_core& core, std::size_t index)
    : core_(core), index_(index), registry_(core, this), steps_to_poll_(global_queue_interval),
      rng_(static_cast<std::uint32_t>(index * 0x9E3779B9u + 1)) {
  queue_.set_solo(core.options.workers == 1); // nobody steals from the only worker
}

void worker::start() {
  thread_ = std::thread([this] { run(); });
}

void worker::join() {
  if (thread_.joinable()) thread_.join();
}

std::uint32_t worker::next_random() noexcept {
  // xorshift32: victim selection only needs to be cheap and not in lock-step across workers.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return rng_;
}

void worker::spill(std::coroutine_handle<> h) noexcept {
  // Full: move the oldest half to the global queue's overflow lane in one batch, then retry
  // locally.
  std::coroutine_handle<> batch[run_queue::capacity / 2 + 1];
  std::size_t n = queue_.take_oldest_half(batch);
  overflows_.add();
  if (n > 0 && queue_.push_back(h)) {
    core_.overflow.push_batch(batch, n);
  } else {
    batch[n++] = h;
    core_.overflow.push_batch(batch, n);
  }
}

void scheduler_core::maybe_probe_inject(std::coroutine_handle<> h) noexcept {
  if ((inject_probe_tick.fetch_add(1, std::memory_order_relaxed) & (worker::sample_interval - 1)) != 0) return;
  const std::uint64_t now = trace_clock();
  const void* old = inject_probe.load(std::memory_order_acquire);
  // One probe at a time; one nobody took within a second (the task was destroyed) is replaced.
  if (old && now - inject_probe_since.load(std::memory_order_relaxed) < 1'000'000'000) return;
  inject_probe_since.store(now, std::memory_order_relaxed);
  inject_probe.compare_exchange_strong(old, h.address(), std::memory_order_release, std::memory_order_relaxed);
}

void worker::check_inject_probe(const std::coroutine_handle<>* hs, std::size_t n) noexcept {
  const void* p = core_.inject_probe.load(std::memory_order_acquire);
  if (!p) [[likely]]
    return;
  for (std::size_t i = 0; i < n; ++i) {
    if (hs[i].address() != p) continue;
    const std::uint64_t since = core_.inject_probe_since.load(std::memory_order_relaxed);
    if (core_.inject_probe.compare_exchange_strong(p, nullptr, std::memory_order_acq_rel)) {
      const std::uint64_t now = trace_clock();
      schedule_latency_[duration_histogram::bucket_of(now > since ? now - since : 0)].add();
    }
    return;
  }
}

void worker::start_probe(std::coroutine_handle<> h) noexcept {
  const std::uint64_t now = trace_clock();
  // A probe that was stolen runs elsewhere and is never seen here: give up on it after a second.
  if (probe_ && now - probe_since_ < 1'000'000'000) return;
  probe_ = h.address();
  probe_since_ = now;
}

void worker::schedule_local(std::coroutine_handle<> h) noexcept {
  maybe_probe(h);
  if (!lifo_) {
    lifo_ = h;
    return;
  }
  push_or_spill(std::exchange(lifo_, h));
  core_.notify_one();
}

} // namespace corio::detail

namespace corio {

namespace {

// Debug mode: every task remembers its creator and age, named or not (task_info.hpp).
void name_in_debug_mode(detail::task_header* header) {
  if (detail::debug_active() && !(header->cancel.load(std::memory_order_relaxed) & detail::cancel_named))
    detail::name_task(header, std::string());
}

// Debug mode and tracing, for a spawn on one of the runtime's own workers: out of line, so the
// common spawn needs no stack frame of its own.
[[gnu::noinline]] void observe_spawn(std::coroutine_handle<> h, const void* parent) {
  name_in_debug_mode(detail::header_of(h.address()));
  if (detail::trace_enabled())
    detail::trace_event(detail::trace_kind::spawn, detail::trace_clock(), 0, reinterpret_cast<std::uintptr_t>(h.address()),
                        reinterpret_cast<std::uintptr_t>(parent));
}

} // namespace

// Here rather than in scheduler.cpp so the worker path inlines: it is half of every spawn.
void scheduler::spawn_task(detail::promise_base&, std::coroutine_handle<> h) {
  auto* w = detail::worker::current();
  if (!w || &w->core() != impl_.get()) [[unlikely]]
    return spawn_from_outside(h);
  if (detail::debug_active() || detail::trace_enabled()) [[unlikely]]
    observe_spawn(h, w->running());
  w->registry_.link(detail::header_of(h.address()));
  w->spawned_.add();
  w->push_or_spill(h); // the queue's tail: runs next here (depth-first), stolen last
  impl_->notify_one();
}

void scheduler::spawn_from_outside(std::coroutine_handle<> h) {
  auto* header = detail::header_of(h.address());
  auto& core = *impl_;
  name_in_debug_mode(header);
  {
    std::lock_guard lock(detail::registry_mutex());
    if (core.closed) throw runtime_error("corio: spawn() on a runtime that was shut down");
    core.foreign_registry.link(header);
    core.foreign_spawned.fetch_add(1, std::memory_order_relaxed);
    if (detail::trace_enabled()) [[unlikely]]
      detail::trace_event(detail::trace_kind::spawn, detail::trace_clock(), 0, reinterpret_cast<std::uintptr_t>(h.address()), 0);
    core.inject.push(h);
  }
  core.notify_one();
}

} // namespace corio

namespace corio::detail {

void worker::yield_task(std::coroutine_handle<> h) noexcept {
  if (!queue_.push_front(h)) core_.inject.push(h);
  core_.notify_one();
}

bool worker::has_queued_work() const noexcept {
  return lifo_ || !queue_.empty() || core_.inject.size() > 0 || core_.overflow.size() > 0;
}

void worker::end_turn() noexcept {
  // Calls may register more calls: index, do not iterate.
  for (std::size_t i = 0; i < end_of_turn_.size(); ++i) end_of_turn_[i].fn(end_of_turn_[i].arg);
  end_of_turn_.clear();
  turn_steps_ = 0;
}

// A futex on the park token rather than std::atomic::wait/notify, because park's second look
// needs a timeout, which std::atomic::wait does not have; and a raw futex waiter needs a raw wake
// (std::atomic::notify skips the system call when its own bookkeeping counts no waiter).
void worker::unpark() noexcept {
  park_token_.store(1, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&park_token_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void worker::wait_for_token(const std::chrono::nanoseconds* timeout) noexcept {
  static_assert(sizeof(park_token_) == sizeof(std::uint32_t) && std::atomic<std::uint32_t>::is_always_lock_free);
  timespec ts{};
  if (timeout) {
    ts.tv_sec = static_cast<time_t>(timeout->count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout->count() % 1'000'000'000);
  }
  // Returns at once if the token is already set; spurious returns are fine (the caller loops).
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&park_token_), FUTEX_WAIT_PRIVATE, 0u, timeout ? &ts : nullptr,
            nullptr, 0);
}

std::coroutine_handle<> worker::take_global() noexcept {
  // Wake-ups from outside first, oldest first; then spilled work, newest first, as the local
  // queue would have run it (depth-first).
  const std::size_t outside = core_.inject.size();
  std::size_t avail = outside > 0 ? outside : core_.overflow.size();
  if (avail == 0) return {};
  // Go's share: an even split across workers plus one, capped so the local queue keeps room.
  std::size_t want = avail / core_.workers.size() + 1;
  std::size_t room = run_queue::capacity - queue_.size();
  if (want > room / 2 + 1) want = room / 2 + 1;
  if (want > 64) want = 64;
  std::coroutine_handle<> batch[64];
  std::size_t n = outside > 0 ? core_.inject.pop_batch(batch, want) : 0;
  const bool from_outside = n > 0;
  if (!from_outside) n = core_.overflow.pop_newest(batch, want); // also when another worker was first
  if (n == 0) return {};
  global_pops_.add(n);
  if (from_outside) {
    check_inject_probe(batch, n);
  } else {
    std::reverse(batch + 1, batch + n); // the next newest ends up on top of the local queue
  }
  if (n > 1) {
    if (!queue_.push_back_batch(batch + 1, static_cast<std::uint16_t>(n - 1)))
      for (std::size_t i = 1; i < n; ++i) push_or_spill(batch[i]);
    core_.notify_one();
  }
  return batch[0];
}

inline std::coroutine_handle<> worker::next_local() noexcept {
  // A countdown rather than a step count modulo 61: a decrement and a compare per step. The
  // common step (no check due, nothing in the LIFO slot) stays this small so that it inlines
  // into run(); the rest is in due_checks_and_lifo.
  if (--steps_to_poll_ == 0 || stale_check_owed_ || lifo_) [[unlikely]]
    if (auto h = due_checks_and_lifo()) return h;
  lifo_streak_ = 0;
  if (auto h = queue_.pop_back()) return h;
  return take_global();
}

std::coroutine_handle<> worker::due_checks_and_lifo() noexcept {
  if (steps_to_poll_ == 0) {
    steps_to_poll_ = global_queue_interval;
    if (registry_.has_remote()) registry_.drain_remote();
    sweep_if_requested();
    // One task only, as Go does, and only from outside: a batch, or spilled work, would put
    // old work on top of the local queue, work that fork-join code should run last.
    std::coroutine_handle<> h;
    if (core_.inject.pop_batch(&h, 1) == 1) {
      global_pops_.add();
      check_inject_probe(&h, 1);
      stale_check_owed_ = true; // half a period later: a busy global queue must not hide it
      return h;
    }
    if (auto stale = take_stale()) return stale;
  } else if (stale_check_owed_ && steps_to_poll_ == global_queue_interval / 2) [[unlikely]] {
    stale_check_owed_ = false;
    if (auto stale = take_stale()) return stale;
  }
  if (lifo_) {
    if (lifo_streak_ < max_lifo_streak) {
      ++lifo_streak_;
      lifo_hits_.add();
      return std::exchange(lifo_, {});
    }
    auto h = std::exchange(lifo_, {});
    if (!queue_.push_front(h)) core_.inject.push(h);
  }
  return {}; // on to the local queue
}

std::coroutine_handle<> worker::take_stale() noexcept {
  const auto now = stale_head_watch::clock::now();
  // Spilled work: its oldest task runs after 10 ms, then one more every 10 ms, per worker, while
  // any is left. A rate, not the head's rule: the lane is shared, so no worker can tell how long
  // its oldest task has waited from what the others take, and spilled work must keep moving
  // even when every worker stays busy. Still slow enough not to start spilled fork-join
  // subtrees breadth first.
  if (core_.overflow.size() > 0) {
    if (!spilled_take_due_) {
      spilled_take_due_ = now + stale_head_watch::usual_wait;
    } else if (now >= *spilled_take_due_) {
      std::coroutine_handle<> h;
      if (core_.overflow.pop_batch(&h, 1) == 1) {
        global_pops_.add();
        spilled_take_due_ = now + stale_head_watch::usual_wait;
        return h;
      }
    }
  } else {
    spilled_take_due_.reset();
  }
  const std::size_t queued = queue_.size();
  if (queued == 0) {
    stale_head_.forget();
    return {};
  }
  // A task put in front of the watched head (yield: push_front) must not restart its wait, or
  // one that yields for ever would keep it from ever running: keep watching it, and when it is
  // due, take it out from behind the ones in front.
  const std::uint32_t head = queue_.head_position();
  std::uint32_t target = head;
  if (std::uint32_t w = 0; stale_head_.watching(w)) {
    const auto in_front = static_cast<std::int32_t>(w - head);
    if (in_front > 0 && static_cast<std::size_t>(in_front) < queued) target = w;
  }
  if (!stale_head_.due(target, queued, now)) return {};
  auto h = take_from_front(target - head);
  if (!h) return {}; // a thief holds the queue: try again at the next check
  stale_head_.taken(queue_.head_position(), queue_.size(), now);
  return h;
}

std::coroutine_handle<> worker::take_from_front(std::uint32_t behind) noexcept {
  std::coroutine_handle<> in_front[run_queue::capacity];
  std::uint32_t taken = 0;
  std::coroutine_handle<> h;
  while (taken <= behind) {
    h = queue_.pop_front();
    if (!h || taken == behind) break;
    in_front[taken++] = h;
  }
  // Put the ones in front back where they were, in their order.
  bool injected = false;
  while (taken > 0) {
    auto back = in_front[--taken];
    if (!queue_.push_front(back)) {
      core_.inject.push(back);
      injected = true;
    }
  }
  if (injected) core_.notify_one();
  return h;
}

std::coroutine_handle<> worker::steal_from_others() noexcept {
  const std::size_t n = core_.workers.size();
  if (n < 2) return {};
  std::size_t start = next_random() % n;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t v = (start + i) % n;
    if (v == index_) continue;
    std::size_t moved = 0;
    if (auto h = core_.workers[v]->queue_.steal_into(queue_, moved)) {
      stolen_.add(moved);
      steal_ops_.add();
      if (trace_enabled()) [[unlikely]]
        trace_event(trace_kind::steal, trace_clock(), 0, v, moved);
      return h;
    }
  }
  return {};
}

std::coroutine_handle<> worker::search() noexcept {
  if (!searching_) searching_ = core_.idle_state.try_start_search();
  if (searching_) {
    const auto deadline = std::chrono::steady_clock::now() + core_.options.spin_before_park;
    do {
      std::coroutine_handle<> h = take_global();
      if (!h) h = steal_from_others();
      if (h) return h; // run() stops the search (and may wake another searcher)
      if (core_.stopping.load(std::memory_order_relaxed)) break;
      // Yield rather than burn the core: the thread that makes the work (an I/O thread, another
      // worker) may be waiting for this very CPU. On an otherwise idle core this returns at once.
      std::this_thread::yield();
    } while (std::chrono::steady_clock::now() < deadline);
  }
  park();
  return {};
}

void worker::collect_if_requested() noexcept {
  const std::uint64_t epoch = core_.collect_epoch.load(std::memory_order_acquire);
  if (epoch == collected_epoch_.load(std::memory_order_relaxed)) [[likely]]
    return;
  if (registry_.has_remote()) registry_.drain_remote(); // frames already destroyed: not live
  {
    std::lock_guard lock(core_.collector_mu);
    // A collector that gave up on us is gone (null, or a later one that asks again).
    if (auto* c = core_.collector; c && c->epoch == epoch) {
      try {
        registry_.for_each([&](task_header* h) { c->add(h); });
      } catch (...) {
        // out of memory: this shard's tasks are left out of the answer
      }
    }
  }
  collected_epoch_.store(epoch, std::memory_order_release);
}

void worker::sweep_if_requested() noexcept {
  collect_if_requested();
  const std::uint64_t epoch = core_.sweep_epoch.load(std::memory_order_acquire);
  if (epoch == swept_epoch_.load(std::memory_order_relaxed)) [[likely]]
    return;
  // Wake-ups caused here go through the global queue, as from a foreign thread: this worker may
  // be on its way to park, with nobody to run what it would push onto its own queue.
  current_worker_tls = nullptr;
  std::size_t unfinished = 0, cancelled = 0;
  registry_.for_each([&](task_header* h) {
    if (h->state.load(std::memory_order_acquire) & completed) return;
    ++unfinished;
    if (cancelling_count(h) == 0 && request_cancel(h)) ++cancelled;
  });
  current_worker_tls = this;
  if (cancelled) core_.sweep_cancelled.fetch_add(cancelled, std::memory_order_relaxed);
  sweep_unfinished_.store(unfinished, std::memory_order_relaxed);
  swept_epoch_.store(epoch, std::memory_order_release);
}

void worker::park() noexcept {
  const std::uint64_t traced_since = trace_enabled() ? trace_clock() : 0;
  if (registry_.has_remote()) registry_.drain_remote();
  sweep_if_requested();
  bool last = core_.idle_state.transition_to_parked(index_, searching_);
  searching_ = false;
  if (last && core_.has_visible_work()) core_.notify_one();
  parks_.add();
  // The last searcher looks once more after a while: a push to another worker's local queue made
  // just before it parked may not have been visible yet (idle.hpp). With one worker there is no
  // other worker to push locally. Against a deadline, not "after the first wait": that wait may
  // return early (a stale token from unpark_all, a signal).
  bool look_again = last && core_.workers.size() > 1;
  const auto look_at = std::chrono::steady_clock::now() + recheck_after;
  for (;;) {
    while (park_token_.exchange(0, std::memory_order_acquire) == 0) {
      if (!look_again) {
        wait_for_token(nullptr);
        continue;
      }
      const auto left = look_at - std::chrono::steady_clock::now();
      if (left > std::chrono::nanoseconds::zero()) {
        const std::chrono::nanoseconds wait = left;
        wait_for_token(&wait);
        continue;
      }
      look_again = false;
      if (core_.has_visible_work()) core_.notify_one(); // may pick this very worker: fine
    }
    if (core_.stopping.load(std::memory_order_acquire)) return;
    sweep_if_requested(); // cancel_pending woke every worker for this
    if (!core_.idle_state.is_sleeping(index_)) break; // a real wake-up, not a stale token
  }
  unparks_.add();
  if (traced_since && trace_enabled()) trace_event(trace_kind::park, traced_since, trace_clock(), 0, 0);
  searching_ = true; // the waker counted us as a searcher
}

void worker::run() {
  tid_.store(static_cast<int>(::gettid()), std::memory_order_relaxed);
  current_worker_tls = this;
  current_scheduler_tls = &core_.owner;
  trace::name_this_thread("worker " + std::to_string(index_));
  set_stack_limit();
  if (frame_pool_enabled()) install_frame_cache(&frames_);
  while (!core_.stopping.load(std::memory_order_acquire)) {
    if (attention_.load(std::memory_order_relaxed)) [[unlikely]] {
      attention_.store(false, std::memory_order_relaxed);
      sweep_if_requested();
    }
    auto h = next_local();
    if (!h) {
      if (!end_of_turn_.empty()) {
        // The turn ends here too, not only after a step that emptied the queue: if the last
        // queued task was stolen, no such step comes, and a deferred send would wait for ever.
        end_turn();
        continue; // it may have queued work (a flush task)
      }
      h = search();
      if (!h) continue;
    }
    if (searching_) [[unlikely]] {
      // Woken as a searcher and found work in the queues: stop counting as one, and if we were
      // the last, wake another so someone keeps looking while we run.
      searching_ = false;
      if (core_.idle_state.stop_search()) core_.notify_one();
    }
    polled_.add();
    running_.store(h.address(), std::memory_order_relaxed);
    if (h.address() == probe_) [[unlikely]] {
      const std::uint64_t now = trace_clock();
      schedule_latency_[duration_histogram::bucket_of(now - probe_since_)].add();
      probe_ = nullptr;
    }
    const bool timed = (++sample_tick_ & (sample_interval - 1)) == 0;
    if (timed || trace_enabled()) [[unlikely]] {
      const auto frame = reinterpret_cast<std::uintptr_t>(h.address());
      // The frame's resume function names the coroutine in the trace (read before it runs: it
      // is cleared when the coroutine finishes).
      std::uintptr_t code = 0;
      if (trace_enabled()) std::memcpy(&code, h.address(), sizeof code);
      const std::uint64_t start = trace_clock();
      h.resume();
      const std::uint64_t end = trace_clock();
      if (timed) poll_time_[duration_histogram::bucket_of(end - start)].add();
      if (trace_enabled()) trace_event(trace_kind::step, start, end, frame, code);
    } else {
      h.resume();
    }
    running_.store(nullptr, std::memory_order_relaxed);
    if (!end_of_turn_.empty()) [[unlikely]]
      if (++turn_steps_ >= max_turn_steps || (!lifo_ && queue_.empty())) end_turn();
  }
  end_turn();
  if (searching_) {
    core_.idle_state.stop_search();
    searching_ = false;
  }
  registry_.drain_remote();
  install_frame_cache(nullptr);
  stack_limit = nullptr;
  current_scheduler_tls = nullptr;
  current_worker_tls = nullptr;
}

void worker::fill_metrics(worker_metrics& m) const {
  m.polled = polled_.get();
  m.stolen = stolen_.get();
  m.steal_operations = steal_ops_.get();
  m.parks = parks_.get();
  m.unparks = unparks_.get();
  m.overflows = overflows_.get();
  m.lifo_hits = lifo_hits_.get();
  m.global_pops = global_pops_.get();
  m.local_queue_depth = queue_.size();
  for (std::size_t i = 0; i < duration_histogram::size; ++i) {
    m.poll_time.counts[i] = poll_time_[i].get();
    m.schedule_latency.counts[i] = schedule_latency_[i].get();
  }
}

} // namespace corio::detail
