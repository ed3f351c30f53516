#pragma once
// corio::sleep and corio::sleep_until (asyncio.sleep): suspend the calling task for a while.
//
//   co_await corio::sleep(250ms);
//   co_await corio::sleep_until(std::chrono::steady_clock::now() + 1s);
//
// Never returns early: the task resumes on a worker at or after the deadline (steady_clock).
// A duration <= 0 yields to other tasks instead (asyncio.sleep(0)). A sleeping task costs no
// thread and no Asio object: its timer node lives in its own frame, and the runtime's I/O thread
// keeps the nodes in one heap. Must be awaited inside a corio::runtime (throws runtime_error
// otherwise). With an application-provided io_context each sleep uses an asio::steady_timer.
#include <corio/detail/io_service.hpp>
#include <corio/scheduler.hpp>
#include <corio/use_task.hpp>
#include <corio/yield.hpp>

#include <asio/steady_timer.hpp>

#include <chrono>
#include <coroutine>
#include <memory>

namespace corio {

namespace detail {

void register_sleep(io_service& io, void* node_storage, std::chrono::steady_clock::time_point deadline,
                    std::coroutine_handle<> h, scheduler& s) noexcept;

// With an application-provided io_context: an Asio timer, allocated only in that mode so a
// sleeping task's frame stays small otherwise.
struct external_sleep {
  explicit external_sleep(asio::io_context& ctx, std::chrono::steady_clock::time_point deadline)
      : timer(ctx, deadline), op(timer.async_wait(use_task)) {}
  asio::steady_timer timer;
  decltype(std::declval<asio::steady_timer&>().async_wait(use_task)) op;
};

class sleep_awaiter {
public:
  explicit sleep_awaiter(std::chrono::steady_clock::time_point deadline) : deadline_(deadline) {}

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> h) {
    scheduler* s = scheduler::current();
    io_service& io = current_io();
    if (deadline_ <= std::chrono::steady_clock::now()) return detail::yield_to_worker(h); // sleep(0)
    if (io.timers()) {
      register_sleep(io, node_, deadline_, h, *s);
      return true;
    }
    external_ = std::make_unique<external_sleep>(io.next_context(), deadline_);
    external_->op.await_suspend(h);
    return true;
  }

  void await_resume() {
    if (external_) external_->op.await_resume();
  }

private:
  std::chrono::steady_clock::time_point deadline_;
  alignas(8) unsigned char node_[40]; // a timer_node (io/src/timer_queue.hpp); checked in timer.cpp
  std::unique_ptr<external_sleep> external_;
};

} // namespace detail

inline detail::sleep_awaiter sleep_until(std::chrono::steady_clock::time_point deadline) {
  return detail::sleep_awaiter(deadline);
}

template <class Rep, class Period>
detail::sleep_awaiter sleep(std::chrono::duration<Rep, Period> d) {
  auto now = std::chrono::steady_clock::now();
  // Round up to the clock's tick so a fractional duration never makes the sleep shorter.
  return detail::sleep_awaiter(now + std::chrono::ceil<std::chrono::steady_clock::duration>(d));
}

} // namespace corio
