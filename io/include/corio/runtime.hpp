#pragma once
// corio::runtime: everything a corio program runs on, in one object — the work-stealing
// scheduler (and, as they land, the I/O thread and the CPU pool). For servers that embed corio;
// small programs use corio::run (run.hpp).
//
//   corio::runtime rt({.workers = 4});
//   auto h = rt.spawn(background_job());     // thread-safe, from any thread
//   int v = rt.block_on(main_task());        // from a non-worker thread
//   rt.shutdown();                           // also done by the destructor
//
// Several runtimes may live in one process; each has its own threads. block_on from a worker,
// and shutdown or destruction from a worker, would deadlock and fail loudly instead (runtime_error,
// or an abort with a message from the destructor).
#include <corio/metrics.hpp>
#include <corio/scheduler.hpp>
#include <corio/task.hpp>

#include <chrono>
#include <cstddef>

namespace corio {

struct runtime_options {
  // Scheduler worker threads; 0 means std::thread::hardware_concurrency().
  std::size_t workers = 0;
  // How long an idle worker keeps looking for work before parking (see scheduler_options).
  std::chrono::microseconds spin_before_park{50};
};

class runtime {
public:
  explicit runtime(runtime_options options = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // Runs t to completion and returns its value or rethrows its exception (asyncio's
  // loop.run_until_complete). Throws corio::runtime_error on a worker thread or after shutdown.
  template <class T>
  T block_on(task<T> t) {
    return scheduler_.block_on(std::move(t));
  }

  // Starts t from any thread; the join_handle may be awaited by a task or dropped to detach.
  template <class T>
  join_handle<T> spawn(task<T> t) {
    return scheduler_.spawn(std::move(t));
  }

  // Stops accepting spawns, stops the workers after their current step, joins them, and
  // destroys every unfinished task (their handles report cancelled_error). Idempotent.
  void shutdown();

  scheduler_metrics metrics() const { return scheduler_.metrics(); }
  corio::scheduler& get_scheduler() noexcept { return scheduler_; }

private:
  corio::scheduler scheduler_;
};

} // namespace corio
