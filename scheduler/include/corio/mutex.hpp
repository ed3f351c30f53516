#pragma once
// corio::mutex (asyncio.Lock): mutual exclusion between tasks, without blocking a worker.
//
//   corio::mutex m;
//   co_await m.lock();          // suspends while another task holds it
//   ++shared_counter;
//   m.unlock();
//   {
//     auto guard = co_await m.scoped_lock();   // unlocks when guard goes out of scope
//     ++shared_counter;
//   }
//
// FIFO: waiters acquire in the order they started waiting, and a new locker never overtakes a
// waiter. unlock() hands the lock directly to the first waiter and schedules it — the waiter
// resumes on a worker (usually the unlocker's, right after the unlocker's current step), never on
// the unlocker's stack, so code after unlock() runs at once (unlike cppcoro's async_mutex,
// issue #204). The uncontended paths are one atomic compare-and-swap each.
// Cancellation: a task cancelled while waiting leaves the queue and never owns the lock. If the
// lock was handed to it first, it owns the lock and the cancellation surfaces at its next
// suspension point (the guard releases the lock as the exception unwinds).
// Unlocking a mutex that is not locked throws invalid_state_error. A coroutine must not hold a
// std::mutex across co_await; this one is made for exactly that.
#include <corio/detail/cancel.hpp>
#include <corio/detail/spinlock.hpp>
#include <corio/detail/wait_list.hpp>
#include <corio/errors.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <utility>

namespace corio {

class mutex {
public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  // Takes the lock if free, without waiting.
  bool try_lock() noexcept {
    std::uint32_t expected = unlocked;
    return state_.compare_exchange_strong(expected, locked, std::memory_order_acquire, std::memory_order_relaxed);
  }

  class lock_awaiter {
  public:
    // `cancellable` false: a lock that must be taken even if the task is being cancelled
    // (condition_variable re-locking before it lets a cancellation surface).
    explicit lock_awaiter(mutex& m, bool cancellable = true) noexcept : m_(m), cancellable_(cancellable) {}
    bool await_ready() noexcept { return m_.try_lock(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      node_.prepare(h, cancellable_);
      return m_.enqueue(node_);
    }
    void await_resume() { node_.finish(); }

  private:
    mutex& m_;
    detail::wait_node node_;
    bool cancellable_;
  };
  lock_awaiter lock() noexcept { return lock_awaiter(*this); }

  void unlock() {
    std::uint32_t expected = locked;
    if (state_.compare_exchange_strong(expected, unlocked, std::memory_order_release, std::memory_order_relaxed)) return;
    if (expected == unlocked) throw invalid_state_error("corio: mutex::unlock() of a mutex that is not locked");
    hand_over();
  }

  bool is_locked() const noexcept { return state_.load(std::memory_order_relaxed) != unlocked; }

  // Unlocks on destruction (unless moved from or released).
  class guard {
  public:
    guard() noexcept = default;
    explicit guard(mutex& m) noexcept : m_(&m) {}
    guard(guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    guard& operator=(guard&& o) noexcept {
      if (this != &o) {
        reset();
        m_ = std::exchange(o.m_, nullptr);
      }
      return *this;
    }
    ~guard() { reset(); }
    void unlock() { reset(); }
    mutex* release() noexcept { return std::exchange(m_, nullptr); }
    bool owns_lock() const noexcept { return m_ != nullptr; }

  private:
    void reset() {
      if (m_) std::exchange(m_, nullptr)->unlock();
    }
    mutex* m_ = nullptr;
  };

  class scoped_lock_awaiter {
  public:
    explicit scoped_lock_awaiter(mutex& m) noexcept : inner_(m), m_(m) {}
    bool await_ready() noexcept { return inner_.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      return inner_.await_suspend(h);
    }
    guard await_resume() {
      inner_.await_resume();
      return guard(m_);
    }

  private:
    lock_awaiter inner_;
    mutex& m_;
  };
  // asyncio's `async with lock:`: `auto g = co_await m.scoped_lock();`.
  scoped_lock_awaiter scoped_lock() noexcept { return scoped_lock_awaiter(*this); }

private:
  // unlocked / locked with no waiter / locked with waiters in the list.
  static constexpr std::uint32_t unlocked = 0, locked = 1, contended = 2;

  // Slow path of lock(): acquires (returns false: do not suspend), gives up for a pending
  // cancellation (false, with n.cancelled set), or queues the waiter.
  bool enqueue(detail::wait_node& n) noexcept {
    detail::cancel_lock cancel(n.root);
    if (cancel.pending()) {
      n.cancelled = true;
      return false;
    }
    {
      std::lock_guard lock(list_lock_);
      std::uint32_t s = state_.load(std::memory_order_relaxed);
      for (;;) {
        if (s == unlocked) {
          if (state_.compare_exchange_weak(s, locked, std::memory_order_acquire, std::memory_order_relaxed)) return false;
        } else if (s == locked) {
          if (state_.compare_exchange_weak(s, contended, std::memory_order_relaxed, std::memory_order_relaxed)) break;
        } else {
          break; // contended: the list is ours to append to (we hold its lock)
        }
      }
      waiters_.push_back(&n);
    }
    // A cancelled waiter just leaves: if it was the last, hand_over finds the list empty.
    n.arm(cancel, list_lock_);
    return true;
  }

  // Slow path of unlock(): the first waiter becomes the owner; the state stays locked.
  void hand_over() noexcept {
    detail::wait_node* next;
    {
      std::lock_guard lock(list_lock_);
      next = waiters_.pop_front();
      if (!next) { // the last waiter left (cancelled) meanwhile: nobody to hand over to
        state_.store(unlocked, std::memory_order_release);
        return;
      }
      // Still locked (by `next`); contended only while more wait.
      state_.store(waiters_.empty() ? locked : contended, std::memory_order_release);
    }
    next->wake();
  }

  std::atomic<std::uint32_t> state_{unlocked};
  detail::spinlock list_lock_;
  detail::wait_list waiters_;
};

} // namespace corio
