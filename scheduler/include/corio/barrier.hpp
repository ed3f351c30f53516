#pragma once
// corio::barrier (asyncio.Barrier): `parties` tasks wait until all of them have arrived; then all
// go on together, and the barrier is ready for the next round.
//
//   corio::barrier sync(3);
//   // in each of the 3 tasks:
//   std::size_t i = co_await sync.wait();   // 0 .. 2, in arrival order
//
// The last task to arrive does not suspend; it releases the others (they resume on workers
// through the scheduler). abort() breaks the barrier: current and future waits throw
// broken_barrier_error until reset(). Cancellation: a task cancelled while waiting withdraws
// its arrival, as asyncio's does; the round then waits for another party.
#include <corio/detail/spinlock.hpp>
#include <corio/detail/wait_list.hpp>

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <stdexcept>

namespace corio {

// asyncio.BrokenBarrierError
class broken_barrier_error : public std::runtime_error {
public:
  broken_barrier_error() : std::runtime_error("corio: the barrier is broken") {}
};

class barrier {
  struct node : detail::wait_node {
    std::size_t index = 0;
    bool broken = false;
    barrier* owner_barrier = nullptr;
  };

public:
  explicit barrier(std::size_t parties) : parties_(parties) {
    if (parties == 0) throw std::invalid_argument("corio: a barrier needs at least one party");
  }
  barrier(const barrier&) = delete;
  barrier& operator=(const barrier&) = delete;

  class wait_awaiter {
  public:
    explicit wait_awaiter(barrier& b) noexcept : b_(b) {}
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      // Bound now: after publishing, this awaiter may be gone (see wait_node::arm).
      detail::spinlock& guard = b_.lock_;
      node_.prepare(h);
      node_.owner_barrier = &b_;
      detail::wake_batch woken;
      {
        detail::cancel_lock cancel(node_.root);
        if (cancel.pending()) {
          node_.cancelled = true;
          return false;
        }
        {
          std::lock_guard lock(b_.lock_);
          if (b_.broken_) {
            node_.broken = true;
            return false;
          }
          node_.index = b_.arrived_++;
          if (b_.arrived_ < b_.parties_) {
            b_.waiters_.push_back(&node_);
          } else {
            b_.arrived_ = 0; // the last one: release this round, open the next
            b_.waiters_.take_all(woken);
          }
        }
        if (woken.empty()) {
          node_.arm(cancel, guard, &withdrawn);
          return true;
        }
      }
      detail::wake_all(woken);
      return false;
    }
    std::size_t await_resume() {
      node_.finish();
      if (node_.broken) throw broken_barrier_error();
      return node_.index;
    }

  private:
    // A cancelled waiter withdraws its arrival (asyncio's does too): the round still needs
    // `parties` tasks.
    static void withdrawn(detail::wait_node* n, detail::wake_batch&) noexcept {
      --static_cast<node*>(n)->owner_barrier->arrived_;
    }
    barrier& b_;
    node node_;
  };
  wait_awaiter wait() noexcept { return wait_awaiter(*this); }

  // Breaks the barrier: every current and future wait throws broken_barrier_error.
  void abort() noexcept {
    detail::wake_batch woken;
    {
      std::lock_guard lock(lock_);
      broken_ = true;
      arrived_ = 0;
      waiters_.take_all(woken);
    }
    while (auto* w = static_cast<node*>(woken.pop())) {
      w->broken = true;
      w->wake();
    }
  }

  // Returns to the empty state; tasks waiting now get broken_barrier_error (as in asyncio).
  void reset() noexcept {
    abort();
    std::lock_guard lock(lock_);
    broken_ = false;
  }

  std::size_t parties() const noexcept { return parties_; }
  std::size_t n_waiting() const noexcept {
    std::lock_guard lock(lock_);
    return waiters_.size();
  }
  bool broken() const noexcept {
    std::lock_guard lock(lock_);
    return broken_;
  }

private:
  const std::size_t parties_;
  mutable detail::spinlock lock_;
  detail::wait_list waiters_;
  std::size_t arrived_ = 0;
  bool broken_ = false;
};

} // namespace corio
