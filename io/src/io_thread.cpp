#include "io_thread.hpp"

#include <corio/detail/io_resume.hpp>
#include <corio/scheduler.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <pthread.h>
#include <sched.h>


namespace corio::detail {

namespace {
constinit thread_local io_batch* current_batch = nullptr;
} // namespace

void io_batch::flush() {
  if (handles.empty()) return;
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

io_thread::io_thread(scheduler& s, bool owns_timers, bool batch_scheduling)
    : sched_(s), owns_timers_(owns_timers), batch_scheduling_(batch_scheduling) {
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
}

void io_thread::wake() {
  asio::post(ctx_, [] {});
}

void io_thread::run() {
  current_batch = &batch_;
  if (batch_scheduling_) {
    // Do not preempt a worker when woken (see runtime_options::io_threads_yield_to_workers).
    sched_param p{};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &p);
  }
  auto keep_running = asio::make_work_guard(ctx_);
  auto fire = [this](scheduler* s, std::coroutine_handle<> h) {
    if (s == &sched_)
      batch_.handles.push_back(h);
    else
      s->schedule(h);
  };
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
    if (owns_timers_) timers_.expire(timer_queue::clock::now(), fire);
    batch_.flush();
  }
  batch_.flush();
  current_batch = nullptr;
}

} // namespace corio::detail
