#include "io_thread.hpp"

#include <corio/detail/io_resume.hpp>
#include <corio/detail/trace_points.hpp>
#include <corio/trace.hpp>
#include <corio/scheduler.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <sys/resource.h>
#include <unistd.h>


namespace corio::detail {

namespace {
constinit thread_local io_batch* current_batch = nullptr;

// Nice value of I/O threads that yield to workers. On a core shared with a worker, a woken I/O
// thread at the workers' priority preempted the worker for every readiness event: one context
// switch per request, half the echo throughput (bench echo, 128 connections, 2-vCPU VM). At +5 a
// worker is rarely preempted, while the I/O thread still preempts offload's TBB threads (+10), so
// timers stay punctual under CPU load (bench offload_latency: ping p99 7 ms -> 2 ms).
constexpr int io_thread_nice = 5;
} // namespace

void io_batch::flush() {
  if (handles.empty()) return;
  handed.store(handed.load(std::memory_order_relaxed) + handles.size(), std::memory_order_relaxed);
  if (trace_enabled()) [[unlikely]]
    trace_event(trace_kind::io_handoff, trace_clock(), 0, handles.size(), 0);
  sched->schedule_batch(handles);
  handles.clear();
}

void resume_from_io(scheduler& s, std::coroutine_handle<> h) noexcept {
  if (io_batch* b = current_batch; b && b->sched == &s) {
    b->handles.push_back(h);
    return;
  }
  s.schedule(h);
}

io_thread::io_thread(scheduler& s, std::size_t index, bool owns_timers, bool yield_to_workers)
    : sched_(s), index_(index), owns_timers_(owns_timers), yield_to_workers_(yield_to_workers) {
  batch_.sched = &s;
  batch_.handles.reserve(256);
}

io_thread::~io_thread() { stop(); }

void io_thread::start() {
  thread_ = std::thread([this] { run(); });
}

void io_thread::stop() {
  stop_.store(true, std::memory_order_relaxed);
  ctx_.stop();
  if (thread_.joinable()) thread_.join();
  poller_.stopped();
}

void io_thread::wake() {
  asio::post(ctx_, [] {});
}

void io_thread::run() {
  current_batch = &batch_;
  trace::name_this_thread("io " + std::to_string(index_));
  if (yield_to_workers_) {
    // Below the workers, above offload's TBB threads (runtime_options::io_threads_yield_to_workers).
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), io_thread_nice);
  }
  auto keep_running = asio::make_work_guard(ctx_);
  poller_.start();
  while (!stop_.load(std::memory_order_relaxed)) {
    // Block in the reactor until a completion is ready or the next timer is due; then run every
    // ready completion without blocking, fire due timers, and hand the batch over at once.
    bool recheck = false;
    auto deadline = owns_timers_ ? timers_.prepare_wait(recheck) : timer_queue::clock::time_point::max();
    if (!recheck) {
      if (deadline == timer_queue::clock::time_point::max())
        ctx_.run_one();
      else
        ctx_.run_one_until(deadline);
    }
    ctx_.poll();
    if (owns_timers_) timers_.expire(timer_queue::clock::now()); // sleepers go into batch_
    batch_.flush();
  }
  batch_.flush();
  current_batch = nullptr;
}

} // namespace corio::detail
