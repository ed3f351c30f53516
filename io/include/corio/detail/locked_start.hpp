#pragma once
// Internal: starts an Asio operation while holding a mutex, then suspends.
//
// The operation may finish (and resume the caller on another worker) before the mutex is
// released; the shared_ptr copied onto await_suspend's own stack keeps the object that owns the
// mutex alive until then. `closed` (read under the mutex) stops the start: the awaiter then
// throws io_error(operation_aborted) without suspending.
#include <corio/detail/cancel.hpp>
#include <corio/io_errors.hpp>

#include <asio/error.hpp>

#include <coroutine>
#include <memory>
#include <mutex>

namespace corio::detail {

// Not an aggregate on purpose: GCC 12 destroys a co_await'ed aggregate temporary with
// non-trivial members twice (tests/scheduler/task_test.cpp keeps a regression check).
template <class Keep, class Op>
struct locked_start {
  locked_start(std::shared_ptr<Keep> k, std::mutex& m, const bool& c, Op o)
      : keep(std::move(k)), mu(m), closed(c), op(std::move(o)) {}

  std::shared_ptr<Keep> keep;
  std::mutex& mu;
  const bool& closed;
  Op op;
  bool was_closed = false;

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    auto hold = keep; // `this` may be gone once the operation has started
    op.prepare(h);
    cancel_lock cancel(op.root());
    if (cancel.pending()) {
      op.start_cancelled(); // its await_resume throws cancelled_error
      return false;
    }
    std::lock_guard lock(mu);
    if (closed) {
      was_closed = true;
      return false;
    }
    op.start(cancel);
    return true;
  }
  auto await_resume() {
    if (was_closed) throw io_error(asio::error::operation_aborted);
    return op.await_resume();
  }
};
template <class Keep, class Op>
locked_start(std::shared_ptr<Keep>, std::mutex&, const bool&, Op) -> locked_start<Keep, Op>;

} // namespace corio::detail
