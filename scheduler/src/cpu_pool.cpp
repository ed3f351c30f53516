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
  // TBB calls the functor as const and destroys it later, after the count below has reached
  // zero and the pool may be gone (and, at exit, perhaps never): the functor owns nothing, and
  // the job's reference is taken out of its holder and freed as the job runs.
  auto holder = std::make_unique<std::shared_ptr<offload_job_base>>(std::move(job));
  // Release here, acquire where the job starts: what the submitting coroutine wrote before it
  // suspended (its frame, the job) happens-before the job runs, and so before the worker that
  // resumes it. TBB's enqueue orders them too, but oneTBB is not built with TSan, which would
  // otherwise see the waiter's frame touched by two workers with nothing in between.
  in_flight_.fetch_add(1, std::memory_order_release);
  try {
    enqueue(holder.get());
  } catch (...) { // out of memory: the job never runs, so it must not be counted (wait_idle)
    finish_one();
    throw;
  }
  (void)holder.release(); // the job owns it now
}

void cpu_pool::finish_one() noexcept {
  // Count down under the lock: once wait_idle sees zero it may destroy the pool, and by then
  // this job must be done touching it.
  std::lock_guard lock(idle_mu_);
  if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1) idle_cv_.notify_all();
}

void cpu_pool::enqueue(std::shared_ptr<offload_job_base>* holder) {
  arena_.enqueue([this, holder] {
    (void)in_flight_.load(std::memory_order_acquire); // pairs with the increment above
    std::shared_ptr<offload_job_base> job = std::move(*holder);
    delete holder;
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
    finish_one();
  });
}

void cpu_pool::wait_idle() {
  std::unique_lock lock(idle_mu_);
  idle_cv_.wait(lock, [&] { return in_flight_.load(std::memory_order_acquire) == 0; });
}

} // namespace corio::detail
