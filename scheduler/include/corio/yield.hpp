#pragma once
// corio::yield() (asyncio.sleep(0), tokio::task::yield_now): let every task queued on this
// worker run before the caller continues.
//
//   while (!done) {
//     step();
//     co_await corio::yield();  // be fair to others in a long loop
//   }
//
// The caller is queued behind all of its worker's queued work (and may be stolen by an idle
// worker meanwhile), so it resumes on a worker of the same runtime, not necessarily the same
// one. Outside a runtime it does not suspend. It is a cancellation point: a pending cancellation
// of the calling task is delivered (as cancelled_error) when it resumes.
#include <corio/detail/cancel.hpp>

#include <coroutine>

namespace corio {

namespace detail {
// Queues h behind its worker's work; false when not called on a worker.
bool yield_to_worker(std::coroutine_handle<> h) noexcept;
} // namespace detail

struct yield_awaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    root_ = detail::cancel_root(h);
    return detail::yield_to_worker(h);
  }
  void await_resume() const { detail::deliver_if_pending(root_); }

private:
  detail::task_header* root_ = nullptr;
};

inline yield_awaiter yield() noexcept { return {}; }

} // namespace corio
