#include "scheduler_core.hpp"
#include "debug_checks_internal.hpp"
#include "watchdog.hpp"

#include <corio/debug.hpp>

#include <corio/scheduler.hpp>
#include <corio/detail/wait_list.hpp>
#include <corio/yield.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <thread>

namespace corio {

namespace detail {

scheduler_core::scheduler_core(scheduler& o, scheduler_options opts)
    : owner(o), options(opts), idle_state(opts.workers), foreign_registry(*this, nullptr) {}

scheduler_core::~scheduler_core() = default;

cpu_pool& scheduler_core::pool() {
  std::call_once(pool_once, [&] {
    std::size_t n = options.offload_threads ? options.offload_threads : std::thread::hardware_concurrency();
    pool_ = std::make_unique<cpu_pool>(n ? n : 1, options.offload_nice);
    pool_published.store(pool_.get(), std::memory_order_release);
  });
  return *pool_;
}

void submit_offload(scheduler& s, std::shared_ptr<offload_job_base> job) {
  auto& core = *s.impl_for_offload();
  {
    std::lock_guard lock(registry_mutex());
    if (core.closed) throw runtime_error("corio: offload() on a runtime that was shut down");
  }
  core.pool().submit(std::move(job));
}

void scheduler_core::wake_one() noexcept {
  std::size_t index;
  if (idle_state.claim_sleeper(index)) workers[index]->unpark();
}

void scheduler_core::unpark_all() noexcept {
  for (auto& w : workers) w->unpark();
}

bool scheduler_core::has_visible_work() const noexcept {
  if (inject.size() > 0 || overflow.size() > 0) return true;
  for (auto& w : workers)
    if (!w->queue().empty()) return true;
  return false;
}

namespace {
worker* own_worker(const scheduler_core& core) noexcept {
  worker* w = worker::current();
  return (w && &w->core() == &core) ? w : nullptr; // one TLS load and a compare
}
} // namespace

void check_block_on_allowed(const scheduler& s) {
  if (worker::current())
    throw runtime_error("corio: block_on() called from a worker thread would deadlock it; "
                        "co_await the task instead");
  if (s.is_shut_down()) throw runtime_error("corio: block_on() on a runtime that was shut down");
}

} // namespace detail


namespace {
scheduler_options normalise(scheduler_options o) {
  if (o.workers == 0) o.workers = std::thread::hardware_concurrency();
  if (o.workers == 0) o.workers = 1;
  return o;
}
} // namespace

scheduler::scheduler(scheduler_options options)
    : impl_(std::make_unique<impl>(*this, normalise(options))) {
  auto& core = *impl_;
  core.workers.reserve(core.options.workers);
  for (std::size_t i = 0; i < core.options.workers; ++i)
    core.workers.push_back(std::make_unique<detail::worker>(core, i));
  for (auto& w : core.workers) w->start();
  if (core.options.debug || debug_requested_by_environment())
    core.watchdog_ = std::make_unique<detail::watchdog>(core, core.options.slow_step_threshold);
}

scheduler::~scheduler() {
  if (detail::own_worker(*impl_)) {
    fmt::print(stderr, "corio: a runtime was destroyed from one of its own worker threads; that "
                       "would deadlock (a worker cannot join itself). Aborting.\n");
    std::fflush(stderr);
    std::abort();
  }
  shutdown();
}

bool scheduler::is_shut_down() const noexcept {
  std::lock_guard lock(detail::registry_mutex());
  return impl_->closed;
}

std::size_t scheduler::worker_count() const noexcept { return impl_->workers.size(); }

void scheduler::schedule(std::coroutine_handle<> h) noexcept {
  if (auto* w = detail::own_worker(*impl_)) {
    w->schedule_local(h);
    return;
  }
  impl_->maybe_probe_inject(h);
  impl_->inject.push(h);
  impl_->notify_one();
}

void scheduler::schedule_batch(std::span<const std::coroutine_handle<>> hs) noexcept {
  if (hs.empty()) return;
  if (auto* w = detail::own_worker(*impl_)) {
    // In order: the first runs next (LIFO slot), the rest are pushed last-first so that the
    // newest-first local queue hands them out in the order given.
    for (std::size_t i = hs.size(); i-- > 1;) w->push_behind_lifo(hs[i]);
    w->schedule_local(hs[0]);
    impl_->notify_one();
    return;
  }
  impl_->maybe_probe_inject(hs[0]);
  impl_->inject.push_batch(hs.data(), hs.size());
  impl_->notify_one();
}

void scheduler::shutdown(std::function<void()> after_workers_stopped) {
  auto& core = *impl_;
  if (detail::own_worker(core))
    throw runtime_error("corio: shutdown() called from one of the runtime's own workers would "
                        "deadlock; call it from the thread that owns the runtime");
  {
    std::lock_guard lock(detail::registry_mutex());
    if (core.closed) return;
    core.closed = true; // 1. no new spawns from other threads
  }
  // 2. Workers finish their current step and leave their loops.
  core.stopping.store(true, std::memory_order_release);
  core.unpark_all();
  for (auto& w : core.workers) w->join();
  const bool report_pending = detail::debug_active(); // before this runtime's debug mode ends
  core.watchdog_.reset();
  // Offloaded jobs still running will schedule their waiters; let them finish before those
  // waiters' frames are destroyed below.
  if (core.pool_) core.pool_->wait_idle();
  if (after_workers_stopped) after_workers_stopped();
  // 3. Nothing runs any more: adopt every registry shard and destroy every task that did not
  //    finish. Finished tasks whose join_handles are still held elsewhere are unregistered, so
  //    dropping those handles later never touches this (possibly destroyed) scheduler.
  //    Destroying one task never destroys another unfinished spawned task (frames only own
  //    nested tasks and join_handles, and a handle never destroys an unfinished task), so the
  //    collected list stays valid while we go through it.
  std::lock_guard lock(detail::registry_mutex());
  core.adopted = true;
  std::vector<detail::registry_shard*> shards;
  for (auto& w : core.workers) shards.push_back(&w->registry());
  shards.push_back(&core.foreign_registry);
  std::vector<detail::task_header*> unfinished;
  for (auto* s : shards) {
    s->drain_remote();
    s->for_each([&](detail::task_header* h) {
      if (h->state.load(std::memory_order_acquire) & detail::completed)
        s->unlink(h); // parked at its final suspend point for its handle, which frees it
      else
        unfinished.push_back(h);
    });
  }
  if (report_pending)
    for (auto* h : unfinished) detail::report_pending_destroyed(h);
  detail::destroying_pending_tasks = true;
  for (auto* h : unfinished) std::coroutine_handle<>::from_address(detail::frame_of(h)).destroy();
  detail::destroying_pending_tasks = false;
  for (auto* s : shards) s->drain_remote();
  // 4. Whatever is still queued refers to destroyed frames or was never going to run.
  core.inject.clear();
  core.overflow.clear();
}

scheduler::cancel_report scheduler::cancel_pending(std::chrono::steady_clock::time_point deadline) {
  auto& core = *impl_;
  if (detail::own_worker(core))
    throw runtime_error("corio: cancel_pending() called from one of the runtime's own workers would "
                        "wait for itself; call it from the thread that owns the runtime");
  cancel_report report;
  core.sweep_cancelled.store(0, std::memory_order_relaxed);
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    std::size_t unfinished = 0;
    std::uint64_t epoch;
    {
      std::lock_guard lock(detail::registry_mutex());
      if (core.closed) return report; // shut down already: nothing runs any more
      epoch = core.sweep_epoch.fetch_add(1, std::memory_order_acq_rel) + 1;
      core.foreign_registry.for_each([&](detail::task_header* h) {
        if (h->state.load(std::memory_order_acquire) & detail::completed) return;
        ++unfinished;
        if (detail::cancelling_count(h) == 0 && detail::request_cancel(h))
          core.sweep_cancelled.fetch_add(1, std::memory_order_relaxed);
      });
    }
    for (auto& w : core.workers) w->request_attention(); // busy workers sweep after their step
    core.unpark_all(); // parked workers sweep too (and park again)
    // Wait for every worker's sweep: up to the deadline, but always a little (a round started
    // just before the deadline still gets its answers); a worker stuck in a long step beyond that
    // counts as one unfinished task (the one it runs).
    const auto answer_by = std::max(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
    for (auto& w : core.workers) {
      while (w->swept_epoch() < epoch && std::chrono::steady_clock::now() < answer_by) {
        w->unpark();
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
      unfinished += w->swept_epoch() < epoch ? 1 : w->sweep_unfinished(); // 1: at least its step
    }
    report.cancelled = core.sweep_cancelled.load(std::memory_order_relaxed);
    report.left = unfinished;
    if (unfinished == 0 || std::chrono::steady_clock::now() >= deadline) return report;
    std::this_thread::sleep_for(pause);
    if (pause < std::chrono::milliseconds(5)) pause *= 2;
  }
}

std::vector<task_snapshot> scheduler::all_tasks() {
  auto& core = *impl_;
  if (detail::own_worker(core))
    throw runtime_error("corio: all_tasks() called on one of the runtime's own workers would wait for "
                        "itself; inside a task use co_await corio::all_tasks()");
  std::lock_guard serial(core.collect_serial);
  detail::task_collector col;
  std::uint64_t epoch;
  {
    std::lock_guard lock(detail::registry_mutex());
    if (core.closed) return {};
    std::lock_guard guard(core.collector_mu);
    core.foreign_registry.for_each([&](detail::task_header* h) { col.add(h); });
    epoch = core.collect_epoch.load(std::memory_order_relaxed) + 1;
    col.epoch = epoch;
    core.collector = &col;
    core.collect_epoch.store(epoch, std::memory_order_release);
  }
  for (auto& w : core.workers) w->request_attention(); // busy workers answer after their step
  core.unpark_all();                                   // parked ones too (and park again)
  const auto answer_by = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (auto& w : core.workers) {
    while (w->collected_epoch() < epoch && std::chrono::steady_clock::now() < answer_by) {
      w->unpark();
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  {
    std::lock_guard guard(core.collector_mu);
    core.collector = nullptr;
  }
  // What runs right now: the coroutine each worker is resuming (a spawned task's own frame, or
  // one it awaits). A worker that did not answer is stuck in a long step: its shard's tasks are
  // missing, but the coroutine holding it is the one worth seeing, so it is listed as running.
  for (auto& w : core.workers) {
    const void* running = w->running();
    if (!running) continue;
    bool found = false;
    for (auto& t : col.tasks) {
      if (reinterpret_cast<const void*>(t.id) != running) continue;
      found = true;
      if (t.state != task_state::done) t.state = task_state::running;
    }
    if (!found && w->collected_epoch() < epoch) {
      task_snapshot t;
      t.id = reinterpret_cast<std::uintptr_t>(running);
      t.state = task_state::running;
      t.name = detail::task_name(detail::header_of(const_cast<void*>(running))); // a key only
      col.tasks.push_back(std::move(t));
    }
  }
  return std::move(col.tasks);
}

scheduler_metrics scheduler::metrics() const {
  scheduler_metrics m;
  auto& core = *impl_;
  m.workers.resize(core.workers.size());
  std::uint64_t spawned = core.foreign_spawned.load(std::memory_order_relaxed);
  std::size_t alive = core.foreign_registry.size();
  for (std::size_t i = 0; i < core.workers.size(); ++i) {
    core.workers[i]->fill_metrics(m.workers[i]);
    spawned += core.workers[i]->spawned();
    alive += core.workers[i]->registry().size();
  }
  m.global_queue_depth = core.inject.size() + core.overflow.size();
  // Not pool_: a worker may be creating it right now (the first offload).
  detail::cpu_pool* pool = core.pool_published.load(std::memory_order_acquire);
  m.offloads_in_flight = pool ? pool->in_flight() : 0;
  m.tasks_spawned = spawned;
  m.tasks_alive = alive;
  return m;
}

} // namespace corio

namespace corio::detail {
bool defer_to_end_of_turn(void (*fn)(void*), void* arg) noexcept {
  worker* w = worker::current();
  if (!w) return false;
  try {
    w->defer_to_end_of_turn(fn, arg);
  } catch (...) {
    return false; // out of memory: the caller falls back to its slow path
  }
  return true;
}

void wake_all(wake_batch& list) noexcept {
  std::coroutine_handle<> batch[64];
  std::size_t n = 0;
  scheduler* sched = nullptr;
  auto flush = [&] {
    if (n == 0) return;
    if (sched)
      sched->schedule_batch({batch, n});
    else
      for (std::size_t i = 0; i < n; ++i) batch[i].resume();
    n = 0;
  };
  while (wait_node* w = list.pop()) {
    if (n == 64 || (n > 0 && w->sched != sched)) flush();
    sched = w->sched;
    batch[n++] = w->handle;
  }
  flush();
}

bool worker_has_other_work() noexcept {
  worker* w = worker::current();
  return w && w->has_queued_work();
}

bool yield_to_worker(std::coroutine_handle<> h) noexcept {
  worker* w = worker::current();
  if (!w) return false;
  w->yield_task(h);
  return true;
}
} // namespace corio::detail
