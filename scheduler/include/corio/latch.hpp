#pragma once
// corio::latch: a single-use countdown tasks can wait on (std::latch for coroutines).
//
//   corio::latch done(3);
//   // each of 3 workers:  done.count_down();
//   co_await done.wait();  // returns once the count reaches zero
//
// Waiters resume on a worker through the scheduler. Counting below zero throws
// invalid_state_error. Cancellation: a cancelled waiter leaves the list.
#include <corio/detail/spinlock.hpp>
#include <corio/detail/wait_list.hpp>
#include <corio/errors.hpp>

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <stdexcept>

namespace corio {

class latch {
public:
  explicit latch(std::ptrdiff_t count) : count_(count) {
    if (count < 0) throw std::invalid_argument("corio: latch count must be >= 0");
  }
  latch(const latch&) = delete;
  latch& operator=(const latch&) = delete;

  void count_down(std::ptrdiff_t n = 1) {
    detail::wake_batch woken;
    {
      std::lock_guard lock(lock_);
      if (n < 0 || n > count_) throw invalid_state_error("corio: latch counted down below zero");
      count_ -= n;
      if (count_ == 0) waiters_.take_all(woken);
    }
    detail::wake_all(woken);
  }

  bool try_wait() const noexcept {
    std::lock_guard lock(lock_);
    return count_ == 0;
  }

  class wait_awaiter {
  public:
    explicit wait_awaiter(latch& l) noexcept : l_(l) {}
    bool await_ready() const noexcept { return l_.try_wait(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      // Bound now: after publishing, this awaiter may be gone (see wait_node::arm).
      detail::spinlock& guard = l_.lock_;
      node_.prepare(h);
      detail::cancel_lock cancel(node_.root);
      if (cancel.pending()) {
        node_.cancelled = true;
        return false;
      }
      {
        std::lock_guard lock(l_.lock_);
        if (l_.count_ == 0) return false;
        l_.waiters_.push_back(&node_);
      }
      node_.arm(cancel, guard);
      return true;
    }
    void await_resume() { node_.finish(); }

  private:
    latch& l_;
    detail::wait_node node_;
  };
  wait_awaiter wait() noexcept { return wait_awaiter(*this); }

  // count_down(n) then wait().
  wait_awaiter arrive_and_wait(std::ptrdiff_t n = 1) {
    count_down(n);
    return wait();
  }

private:
  mutable detail::spinlock lock_;
  detail::wait_list waiters_;
  std::ptrdiff_t count_;
};

} // namespace corio
