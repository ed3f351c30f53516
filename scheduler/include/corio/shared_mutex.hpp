#pragma once
// corio::shared_mutex: a readers/writer lock for tasks. Many readers or one writer.
//
//   corio::shared_mutex rw;
//   { auto r = co_await rw.scoped_lock_shared(); read(table); }
//   { auto w = co_await rw.scoped_lock();        write(table); }
//
// Writer-preferring: once a writer waits, new readers queue behind it, so a stream of readers
// cannot starve writers. Waiters are served in arrival order, except that when the lock passes
// to readers, every reader queued before the next writer enters together. Waking goes through
// the scheduler (never on the unlocker's stack). Cancellation: a cancelled waiter leaves the
// queue without taking the lock.
#include <corio/detail/spinlock.hpp>
#include <corio/detail/wait_list.hpp>
#include <corio/errors.hpp>

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <utility>

namespace corio {

class shared_mutex {
  struct node : detail::wait_node {
    bool exclusive = false;
    shared_mutex* owner_mutex = nullptr;
  };

public:
  shared_mutex() = default;
  shared_mutex(const shared_mutex&) = delete;
  shared_mutex& operator=(const shared_mutex&) = delete;

  bool try_lock() noexcept {
    std::lock_guard lock(lock_);
    if (writer_ || readers_ > 0 || !waiters_.empty()) return false;
    writer_ = true;
    return true;
  }
  bool try_lock_shared() noexcept {
    std::lock_guard lock(lock_);
    if (writer_ || !waiters_.empty()) return false; // a queued writer goes first
    ++readers_;
    return true;
  }

  class awaiter {
  public:
    awaiter(shared_mutex& m, bool exclusive) noexcept : m_(m) { node_.exclusive = exclusive; }
    bool await_ready() noexcept { return node_.exclusive ? m_.try_lock() : m_.try_lock_shared(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      // Bound now: after publishing, this awaiter may be gone (see wait_node::arm).
      detail::spinlock& guard = m_.lock_;
      node_.prepare(h);
      node_.owner_mutex = &m_;
      detail::cancel_lock cancel(node_.root);
      if (cancel.pending()) {
        node_.cancelled = true;
        return false;
      }
      {
        std::lock_guard lock(m_.lock_);
        if (m_.grant_locked(node_.exclusive)) return false;
        m_.waiters_.push_back(&node_);
      }
      node_.arm(cancel, guard, &withdrawn);
      return true;
    }
    void await_resume() { node_.finish(); }

  private:
    // A waiter that leaves may unblock those queued behind it (readers behind a writer).
    static void withdrawn(detail::wait_node* n, detail::wake_batch& woken) noexcept {
      auto* self = static_cast<node*>(n)->owner_mutex;
      if (!self->writer_) self->admit_locked(woken);
    }
    shared_mutex& m_;
    node node_;
  };
  awaiter lock() noexcept { return awaiter(*this, true); }
  awaiter lock_shared() noexcept { return awaiter(*this, false); }

  void unlock() {
    detail::wake_batch woken;
    {
      std::lock_guard lock(lock_);
      if (!writer_) throw invalid_state_error("corio: shared_mutex::unlock() without the exclusive lock");
      writer_ = false;
      admit_locked(woken);
    }
    wake(woken);
  }
  void unlock_shared() {
    detail::wake_batch woken;
    {
      std::lock_guard lock(lock_);
      if (readers_ == 0) throw invalid_state_error("corio: shared_mutex::unlock_shared() without a shared lock");
      if (--readers_ == 0) admit_locked(woken);
    }
    wake(woken);
  }

  template <bool Exclusive>
  class guard {
  public:
    guard() noexcept = default;
    explicit guard(shared_mutex& m) noexcept : m_(&m) {}
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

  private:
    void reset() {
      if (!m_) return;
      auto* m = std::exchange(m_, nullptr);
      if constexpr (Exclusive)
        m->unlock();
      else
        m->unlock_shared();
    }
    shared_mutex* m_ = nullptr;
  };

  template <bool Exclusive>
  class scoped_awaiter {
  public:
    explicit scoped_awaiter(shared_mutex& m) noexcept : inner_(m, Exclusive), m_(m) {}
    bool await_ready() noexcept { return inner_.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      return inner_.await_suspend(h);
    }
    guard<Exclusive> await_resume() {
      inner_.await_resume();
      return guard<Exclusive>(m_);
    }

  private:
    awaiter inner_;
    shared_mutex& m_;
  };
  scoped_awaiter<true> scoped_lock() noexcept { return scoped_awaiter<true>(*this); }
  scoped_awaiter<false> scoped_lock_shared() noexcept { return scoped_awaiter<false>(*this); }

private:
  // Under lock_: takes the lock now if the queue rules allow it.
  bool grant_locked(bool exclusive) noexcept {
    if (!waiters_.empty() || writer_) return false;
    if (exclusive) {
      if (readers_ > 0) return false;
      writer_ = true;
    } else {
      ++readers_;
    }
    return true;
  }

  // Under lock_, with the lock free of writers: admits the next writer, or every reader up to
  // the next writer.
  void admit_locked(detail::wake_batch& woken) noexcept {
    while (auto* n = static_cast<node*>(waiters_.front())) {
      if (n->exclusive) {
        if (readers_ > 0 || writer_) return;
        writer_ = true;
        woken.add(waiters_.pop_front());
        return;
      }
      if (writer_) return;
      ++readers_;
      woken.add(waiters_.pop_front());
    }
  }

  static void wake(detail::wake_batch& woken) noexcept {
    detail::wake_all(woken);
  }

  detail::spinlock lock_;
  detail::wait_list waiters_;
  std::size_t readers_ = 0;
  bool writer_ = false;
};

} // namespace corio
