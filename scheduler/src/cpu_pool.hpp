#pragma once
// The scheduler's CPU pool: one oneTBB task arena for offload(). Created on the first offload.
//
// Why a global_control: oneTBB starts hardware_concurrency - 1 worker threads and counts on the
// thread that calls into an arena to be the last one. Offloading callers are corio workers, which
// never join the arena (they must not block), so without raising the limit to the arena's
// concurrency + 1 an arena of 2 gets one thread (measured: 32 jobs took 0.83 s instead of 0.45 s
// on 2 cores). The control is process-wide while the pool exists.
#include <corio/offload.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_scheduler_observer.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

namespace corio::detail {

class cpu_pool {
public:
  cpu_pool(std::size_t concurrency, int nice);
  ~cpu_pool(); // waits for jobs still running

  void submit(std::shared_ptr<offload_job_base> job);
  // Blocks until every submitted job has run (shutdown: their waiters may then be destroyed).
  void wait_idle();
  std::size_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
  std::size_t concurrency() const noexcept { return concurrency_; }

private:
  const std::size_t concurrency_;
  tbb::global_control threads_;
  tbb::task_arena arena_;
  // Gives the arena's threads a nice value while they work in it (they may serve other arenas).
  struct nicer : tbb::task_scheduler_observer {
    explicit nicer(tbb::task_arena& a, int nice) : tbb::task_scheduler_observer(a), nice_(nice) { observe(true); }
    ~nicer() { observe(false); }
    void on_scheduler_entry(bool) override;
    void on_scheduler_exit(bool) override;
    int nice_;
  };
  std::unique_ptr<nicer> nicer_;
  void enqueue(std::shared_ptr<offload_job_base>* holder);
  void finish_one() noexcept;

  std::atomic<std::size_t> in_flight_{0};
  std::mutex idle_mu_;
  std::condition_variable idle_cv_;
};

} // namespace corio::detail
