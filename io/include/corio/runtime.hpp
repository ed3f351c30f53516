#pragma once
// corio::runtime: everything a corio program runs on, in one object — the work-stealing
// scheduler and the I/O thread(s) (and, as it lands, the CPU pool). For servers that embed corio;
// small programs use corio::run (run.hpp).
//
//   corio::runtime rt({.workers = 4, .io_threads = 2});
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
#include <cstdint>
#include <memory>
#include <string>

namespace asio {
class io_context;
}

namespace corio {

namespace detail {
class io_service;
}

struct runtime_options {
  // Scheduler worker threads; 0 means std::thread::hardware_concurrency().
  std::size_t workers = 0;
  // How long an idle worker keeps looking for work before parking (see scheduler_options).
  std::chrono::microseconds spin_before_park{50};
  // Threads of the oneTBB arena that runs offload() jobs; 0 = hardware_concurrency() (shared
  // with the workers; see scheduler/README.md).
  std::size_t offload_threads = 0;
  // Nice value offload's TBB threads take while they run corio jobs (0 leaves it alone).
  int offload_nice = 10;
  // Debug mode (corio/debug.hpp): report steps that hold a worker longer than the threshold.
  // Also on with CORIO_DEBUG=1.
  bool debug = false;
  std::chrono::milliseconds slow_step_threshold{100};
  // I/O threads, each running its own asio::io_context; sockets are spread over them. One is
  // enough until a single thread's reactor becomes the limit (~190k requests/s).
  std::size_t io_threads = 1;
  // I/O threads run at nice +5, between the workers (0) and offload's TBB threads (+10): a woken
  // I/O thread then rarely preempts a worker sharing its core (at equal priority it did so for
  // every readiness event — one context switch per request, half the echo throughput on a 2-vCPU
  // VM), yet still preempts CPU-bound offload work, so timers stay punctual. On cores of their own
  // it makes no difference. Set false to keep them at the workers' priority.
  bool io_threads_yield_to_workers = true;
  // An io_context the application runs itself (a server that already has one): corio then starts
  // no I/O thread and puts its sockets and timers on this context. Completions are handed to the
  // scheduler from whichever threads run it.
  asio::io_context* io_context = nullptr;
  // corio::run: how long the tasks still pending when the main task returns get to finish after
  // they were cancelled (asyncio.run waits for ever; a task that ignores its cancellation would
  // then hang the program). Those left at the end are destroyed, with a note on stderr.
  std::chrono::milliseconds shutdown_grace{10'000};
  // "host:port" to serve metrics and the task list for tools/top (port 0 picks a free one,
  // printed on stderr; see metrics_port()). Also set by CORIO_METRICS. Empty: off. Bind it to a
  // local address: anyone who can connect can read it.
  std::string metrics_address;
};

using cancel_report = scheduler::cancel_report;

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
  template <class T>
  join_handle<T> spawn(task<T> t, std::string name) {
    return scheduler_.spawn(std::move(t), std::move(name));
  }

  // Every live spawned task (corio/task_info.hpp); from outside the workers.
  std::vector<task_snapshot> all_tasks() { return scheduler_.all_tasks(); }

  // Stops accepting spawns, stops the workers after their current step, then the I/O threads,
  // and destroys every unfinished task (their handles report cancelled_error). Idempotent.
  void shutdown();
  // The graceful form (asyncio.run's ending): cancels every unfinished task, waits until they
  // have all finished or the deadline passes, then shuts down as above (destroying the ones
  // left). Returns how many were cancelled and how many were left. Call from outside the workers.
  cancel_report shutdown(std::chrono::steady_clock::time_point deadline);
  template <class Rep, class Period>
  cancel_report shutdown(std::chrono::duration<Rep, Period> grace) {
    return shutdown(std::chrono::steady_clock::now() + grace);
  }

  // The scheduler's metrics plus the I/O threads' (io_completions).
  scheduler_metrics metrics() const;
  corio::scheduler& get_scheduler() noexcept { return scheduler_; }

  // The io_context of I/O thread `index` (or the application's), for user Asio objects that
  // should complete through corio (see use_task.hpp).
  asio::io_context& io_context(std::size_t index = 0) noexcept;
  std::size_t io_thread_count() const noexcept;

  // The runtime whose worker runs the calling thread, or nullptr.
  static runtime* current() noexcept;

  detail::io_service& io() noexcept { return *io_; }

  // The port of the metrics endpoint (runtime_options::metrics_address), 0 if there is none.
  std::uint16_t metrics_port() const noexcept;

  // The shutdown grace corio::run uses (runtime_options::shutdown_grace).
  std::chrono::milliseconds shutdown_grace() const noexcept { return grace_; }

private:
  std::chrono::milliseconds grace_;
  std::string trace_path_; // CORIO_TRACE: this runtime started the recording and writes it at the end
  // Declared first so it is destroyed last: sockets and timers die with the tasks that own
  // them, during shutdown, while their io_context still exists.
  std::unique_ptr<detail::io_service> io_;
  corio::scheduler scheduler_;
  struct metrics_endpoint; // io/src/metrics_endpoint.hpp
  std::unique_ptr<metrics_endpoint> metrics_;
};

} // namespace corio
