#pragma once
// corio::event (asyncio.Event): a flag tasks can wait for.
//
//   corio::event ready;
//   // one task:                 // others:
//   ready.set();                 co_await ready.wait();   // returns at once once set
//
// set() wakes every waiter (each resumes on a worker through the scheduler, not on the setter's
// stack) and lets later waits pass until clear(). Waits are free of spurious wake-ups: a woken
// waiter was woken by a set(). Cancellation: a cancelled waiter just leaves the list.
#include <corio/detail/spinlock.hpp>
#include <corio/detail/wait_list.hpp>

#include <atomic>
#include <coroutine>
#include <mutex>

namespace corio {

class event {
public:
  explicit event(bool initially_set = false) noexcept : set_(initially_set) {}
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  bool is_set() const noexcept { return set_.load(std::memory_order_acquire); }

  void set() noexcept {
    detail::wake_batch woken;
    {
      std::lock_guard lock(lock_);
      set_.store(true, std::memory_order_release);
      waiters_.take_all(woken);
    }
    detail::wake_all(woken);
  }

  void clear() noexcept { set_.store(false, std::memory_order_release); }

  class wait_awaiter {
  public:
    explicit wait_awaiter(event& e) noexcept : e_(e) {}
    bool await_ready() const noexcept { return e_.is_set(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      // Bound now: after publishing, this awaiter may be gone (see wait_node::arm).
      detail::spinlock& guard = e_.lock_;
      node_.prepare(h);
      detail::cancel_lock cancel(node_.root);
      if (cancel.pending()) {
        node_.cancelled = true;
        return false;
      }
      {
        std::lock_guard lock(e_.lock_);
        if (e_.set_.load(std::memory_order_relaxed)) return false;
        e_.waiters_.push_back(&node_);
      }
      node_.arm(cancel, guard);
      return true;
    }
    void await_resume() { node_.finish(); }

  private:
    event& e_;
    detail::wait_node node_;
  };
  wait_awaiter wait() noexcept { return wait_awaiter(*this); }

private:
  std::atomic<bool> set_;
  detail::spinlock lock_;
  detail::wait_list waiters_;
};

} // namespace corio
