#include "cpu_pool.hpp"

#include "scheduler_core.hpp"

#include <corio/detail/trace_points.hpp>
#include <corio/trace.hpp>

#include <sys/resource.h>
#include <unistd.h>


namespace corio::detail {

cpu_pool::cpu_pool(std::size_t concurrency, int nice)
    : concurrency_(concurrency),
      threads_(tbb::global_control::max_allowed_parallelism, concurrency + 1),
      arena_(static_cast<int>(concurrency), 0 /* no slot kept for a calling thread: none joins */) {
  if (nice != 0) nicer_ = std::make_unique<nicer>(arena_, nice);
}

cpu_pool::~cpu_pool() {
  wait_idle();
  nicer_.reset();
}

void cpu_pool::nicer::on_scheduler_entry(bool) { setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice_); }
void cpu_pool::nicer::on_scheduler_exit(bool) { setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 0); }

void cpu_pool::submit(std::shared_ptr<offload_job_base> job) {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  // TBB calls the functor as const and destroys it later: the job is taken out through a
  // holder so that it is released as soon as it has run.
  auto holder = std::make_shared<std::shared_ptr<offload_job_base>>(std::move(job));
  arena_.enqueue([this, holder] {
    std::shared_ptr<offload_job_base> job = std::move(*holder);
    if (trace_enabled()) [[unlikely]] {
      thread_local bool named = false;
      if (!named) {
        trace::name_this_thread("offload");
        named = true;
      }
      const std::uint64_t start = trace_clock();
      job->run();
      if (trace_enabled()) trace_event(trace_kind::offload, start, trace_clock(), 0, 0); // not after stop()
    } else {
      job->run();
    }
    job->finish_and_wake(); // unless the waiter was cancelled and resumed already
    job.reset();
    // Count down under the lock: once wait_idle sees zero it may destroy the pool, and by then
    // this job must be done touching it.
    std::lock_guard lock(idle_mu_);
    if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1) idle_cv_.notify_all();
  });
}

void cpu_pool::wait_idle() {
  std::unique_lock lock(idle_mu_);
  idle_cv_.wait(lock, [&] { return in_flight_.load(std::memory_order_acquire) == 0; });
}

} // namespace corio::detail
