#pragma once
// corio::condition_variable (asyncio.Condition): wait, holding a corio::mutex, until notified.
//
//   corio::mutex m;
//   corio::condition_variable cv;
//   // consumer:                                  // producer:
//   co_await m.lock();                             co_await m.lock();
//   co_await cv.wait_for(m, [&] { return ready; }); ready = true;
//   /* m is held again here */                     cv.notify_one();
//   m.unlock();                                    m.unlock();
//
// wait(m): the caller must hold m. It joins the waiters, then unlocks m, and when notified
// re-acquires m before returning (queuing behind other lockers, FIFO). Registration happens
// before the unlock, so a notify made after the unlock (under m, as asyncio requires) cannot be
// missed. A waiter resumes only when notified: no spurious wake-ups (but another task may have
// changed the state meanwhile, hence wait_for(m, predicate), asyncio's wait_for). notify_one /
// notify_all schedule the waiters; they never resume them on the notifier's stack.
// Cancellation: a task cancelled while waiting leaves the list and still re-acquires m before
// the cancellation surfaces, so the caller's lock discipline holds.
#include <corio/detail/spinlock.hpp>
#include <corio/detail/wait_list.hpp>
#include <corio/errors.hpp>
#include <corio/mutex.hpp>
#include <corio/task.hpp>

#include <coroutine>
#include <cstddef>
#include <mutex>

namespace corio {

class condition_variable {
public:
  condition_variable() = default;
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  void notify_one() noexcept { notify(1); }
  void notify_all() noexcept { notify(static_cast<std::size_t>(-1)); }
  void notify(std::size_t n) noexcept {
    detail::wake_batch woken;
    {
      std::lock_guard lock(lock_);
      while (n-- > 0 && !waiters_.empty()) woken.add(waiters_.pop_front());
    }
    detail::wake_all(woken);
  }

  // Waits for a notify; m must be locked by the caller, and is locked again on return.
  task<void> wait(mutex& m) {
    if (!m.is_locked()) throw invalid_state_error("corio: condition_variable::wait() needs the mutex locked");
    bool cancelled = co_await park(*this, m);
    co_await mutex::lock_awaiter(m, false); // even when cancelled: the caller expects m held
    if (cancelled) throw cancelled_error();
  }

  // Waits until pred() is true, checking it with m held (asyncio.Condition.wait_for).
  template <class Pred>
  task<void> wait_for(mutex& m, Pred pred) {
    while (!pred()) co_await wait(m);
  }

private:
  // Joins the waiters, then releases m (in that order: no lost notify).
  class park {
  public:
    park(condition_variable& cv, mutex& m) noexcept : cv_(cv), m_(m) {}
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      // Bound now: once listed, a notify may resume the waiter, whose wait() then destroys this
      // awaiter and queues on m (which we still hold) before we get to unlock it below.
      detail::spinlock& guard = cv_.lock_;
      mutex& m = m_;
      node_.prepare(h);
      bool listed = false;
      {
        detail::cancel_lock cancel(node_.root);
        if (cancel.pending()) {
          node_.cancelled = true; // wait() re-locks m and throws, like any cancelled wait
        } else {
          {
            std::lock_guard lock(cv_.lock_);
            cv_.waiters_.push_back(&node_);
          }
          node_.arm(cancel, guard);
          listed = true;
        }
      }
      m.unlock(); // may hand m to another waiter; if listed, we already are
      return listed;
    }
    // True when cancelled (the request is taken; wait() throws once it holds m again).
    bool await_resume() noexcept { return node_.finish_quietly(); }

  private:
    condition_variable& cv_;
    mutex& m_;
    detail::wait_node node_;
  };

  detail::spinlock lock_;
  detail::wait_list waiters_;
};

} // namespace corio
