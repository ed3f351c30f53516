#pragma once
// corio::semaphore and corio::bounded_semaphore (asyncio.Semaphore / BoundedSemaphore): a count
// of permits that tasks acquire and release.
//
//   corio::semaphore slots(10);                 // at most 10 at a time
//   co_await slots.acquire();  /* ... */  slots.release();
//   {
//     auto permit = co_await slots.scoped_acquire();   // released when permit goes away
//   }
//
// FIFO and fair: while tasks wait, a new acquirer queues behind them even if a permit was just
// released (release() hands the permit straight to the first waiter and schedules it; it resumes
// on a worker, never on the releaser's stack). bounded_semaphore throws invalid_state_error when
// released more often than acquired (asyncio raises ValueError). Cancellation: a cancelled waiter
// leaves the queue and takes no permit.
#include <corio/detail/spinlock.hpp>
#include <corio/detail/wait_list.hpp>
#include <corio/errors.hpp>

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace corio {

class semaphore {
public:
  explicit semaphore(std::ptrdiff_t initial = 1) : value_(initial) {
    if (initial < 0) throw std::invalid_argument("corio: semaphore initial value must be >= 0");
  }
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;
  virtual ~semaphore() = default;

  bool try_acquire() noexcept {
    std::lock_guard lock(lock_);
    if (value_ > 0 && waiters_.empty()) {
      --value_;
      return true;
    }
    return false;
  }

  class acquire_awaiter {
  public:
    explicit acquire_awaiter(semaphore& s) noexcept : s_(s) {}
    bool await_ready() noexcept { return s_.try_acquire(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      // Bound now: after publishing, this awaiter may be gone (see wait_node::arm).
      detail::spinlock& guard = s_.lock_;
      node_.prepare(h);
      detail::cancel_lock cancel(node_.root);
      if (cancel.pending()) {
        node_.cancelled = true;
        return false;
      }
      {
        std::lock_guard lock(s_.lock_);
        if (s_.value_ > 0 && s_.waiters_.empty()) {
          --s_.value_;
          return false;
        }
        s_.waiters_.push_back(&node_);
      }
      node_.arm(cancel, guard);
      return true;
    }
    void await_resume() { node_.finish(); }

  private:
    semaphore& s_;
    detail::wait_node node_;
  };
  acquire_awaiter acquire() noexcept { return acquire_awaiter(*this); }

  // Releases `n` permits (each goes to a waiter first).
  void release(std::ptrdiff_t n = 1) {
    if (n < 0) throw std::invalid_argument("corio: semaphore::release of a negative count");
    detail::wake_batch woken;
    {
      std::lock_guard lock(lock_);
      check_release(n);
      while (n > 0 && !waiters_.empty()) {
        woken.add(waiters_.pop_front()); // the permit passes straight to it
        --n;
      }
      value_ += n;
    }
    detail::wake_all(woken);
  }

  // Permits available now (asyncio's _value).
  std::ptrdiff_t value() const noexcept {
    std::lock_guard lock(lock_);
    return value_;
  }
  bool locked() const noexcept { return value() == 0; }

  // Releases its permit on destruction.
  class permit {
  public:
    permit() noexcept = default;
    explicit permit(semaphore& s) noexcept : s_(&s) {}
    permit(permit&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    permit& operator=(permit&& o) noexcept {
      if (this != &o) {
        reset();
        s_ = std::exchange(o.s_, nullptr);
      }
      return *this;
    }
    ~permit() { reset(); }
    void release() { reset(); }

  private:
    void reset() {
      if (s_) std::exchange(s_, nullptr)->release();
    }
    semaphore* s_ = nullptr;
  };

  class scoped_acquire_awaiter {
  public:
    explicit scoped_acquire_awaiter(semaphore& s) noexcept : inner_(s), s_(s) {}
    bool await_ready() noexcept { return inner_.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      return inner_.await_suspend(h);
    }
    permit await_resume() {
      inner_.await_resume();
      return permit(s_);
    }

  private:
    acquire_awaiter inner_;
    semaphore& s_;
  };
  scoped_acquire_awaiter scoped_acquire() noexcept { return scoped_acquire_awaiter(*this); }

protected:
  // Called under the lock before a release of n permits.
  virtual void check_release(std::ptrdiff_t) {}
  std::ptrdiff_t value_;
  std::size_t waiting() const noexcept { return waiters_.size(); }

private:
  mutable detail::spinlock lock_;
  detail::wait_list waiters_;
};

class bounded_semaphore : public semaphore {
public:
  explicit bounded_semaphore(std::ptrdiff_t initial = 1) : semaphore(initial), bound_(initial) {}

protected:
  void check_release(std::ptrdiff_t n) override {
    // Permits out = bound - value; waiters hold none yet. Releasing more than are out is a bug.
    if (n > bound_ - value_) throw invalid_state_error("corio: bounded_semaphore released too many times");
  }

private:
  std::ptrdiff_t bound_;
};

} // namespace corio
