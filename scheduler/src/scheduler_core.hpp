#pragma once
// The state a scheduler's workers share: the global queue, the idle bookkeeping, the foreign
// registry shard and the stop flags. corio::scheduler is a thin owner of this.
#include "cpu_pool.hpp"
#include "idle.hpp"
#include "inject_queue.hpp"
#include "task_registry.hpp"
#include "worker.hpp"

#include <corio/scheduler.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace corio::detail {

// What all_tasks() gathers: snapshots of registered tasks, built by the shards' owners.
struct task_collector {
  std::uint64_t epoch = 0;
  std::vector<task_snapshot> tasks;
  void add(task_header* h); // task_info.cpp
};

class watchdog;

struct scheduler_core {
  scheduler_core(scheduler& owner, scheduler_options opts);

  // Wakes one parked worker if nobody is searching for work (cheap when nobody sleeps).
  void notify_one() noexcept {
    if (idle_state.should_wake()) [[unlikely]]
      wake_one();
  }
  void wake_one() noexcept;
  void unpark_all() noexcept;
  bool has_visible_work() const noexcept;
  bool owns_worker_shard(const registry_shard* s) const noexcept {
    for (auto& w : workers)
      if (&w->registry() == s) return true;
    return false;
  }

  scheduler& owner;
  scheduler_options options;
  std::vector<std::unique_ptr<worker>> workers;
  // The global queue, in two lanes: wake-ups and spawns from threads that are not workers (FIFO),
  // and local-queue overflow (taken back newest first: worker::take_global).
  inject_queue inject;
  inject_queue overflow;
  // Schedule-latency probe for work injected by other threads (metrics): one sampled coroutine
  // at a time, stamped when injected, timed by the worker that takes it out.
  std::atomic<const void*> inject_probe{nullptr};
  std::atomic<std::uint64_t> inject_probe_since{0};
  std::atomic<std::uint32_t> inject_probe_tick{0};
  void maybe_probe_inject(std::coroutine_handle<> h) noexcept;
  idle idle_state;
  registry_shard foreign_registry;   // under registry_mutex()
  std::atomic<std::uint64_t> foreign_spawned{0};
  std::atomic<bool> stopping{false}; // workers leave their loop
  bool closed = false;               // no more spawns; under registry_mutex()
  bool adopted = false;              // shutdown owns every shard now; under registry_mutex()

  // scheduler::cancel_pending: each worker sweeps its own registry shard when it sees a new
  // epoch (worker::sweep_if_requested) and reports what it found.
  std::atomic<std::uint64_t> sweep_epoch{0};
  std::atomic<std::size_t> sweep_cancelled{0};

  // scheduler::all_tasks: each worker adds the tasks of its own shard to the collector when it
  // sees a new collect epoch (worker::collect_if_requested). One collection at a time.
  std::mutex collect_serial;
  std::mutex collector_mu;                   // guards collector, taken by workers while adding
  task_collector* collector = nullptr;       // under collector_mu
  std::atomic<std::uint64_t> collect_epoch{0};

  // offload(): created on first use.
  cpu_pool& pool();
  std::once_flag pool_once;
  std::unique_ptr<cpu_pool> pool_;
  // pool_ published for readers that do not go through pool() (metrics() from any thread).
  std::atomic<cpu_pool*> pool_published{nullptr};

  std::unique_ptr<watchdog> watchdog_;
  ~scheduler_core();
};

} // namespace corio::detail

namespace corio {
struct scheduler::impl : detail::scheduler_core {
  using scheduler_core::scheduler_core;
};
} // namespace corio
