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
// Cancellation (join_handle::cancel): a sleep is cancel-safe; the task resumes with
// cancelled_error at once (the timer is taken out of the I/O thread's heap first). A sleep that
// already expired when the request came finishes normally; the request is seen at the next
// suspension point.
#include <corio/detail/cancel.hpp>
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

// The sleeper's timer node (io/src/timer.cpp) is built in storage inside the awaiter.
inline constexpr std::size_t sleep_node_size = 56;
void register_sleep(io_service& io, void* node_storage, std::chrono::steady_clock::time_point deadline,
                    std::coroutine_handle<> h, scheduler& s) noexcept;
// Takes a registered sleep out of the timer heap and resumes its waiter, unless it fired
// already. Returns whether it did.
bool cancel_sleep(io_service& io, void* node_storage) noexcept;

// With an application-provided io_context: an Asio timer, allocated only in that mode so a
// sleeping task's frame stays small otherwise.
struct external_sleep {
  explicit external_sleep(asio::io_context& ctx, std::chrono::steady_clock::time_point deadline)
      : timer(ctx, deadline), op(timer.async_wait(use_task)) {}
  asio::steady_timer timer;
  decltype(std::declval<asio::steady_timer&>().async_wait(use_task)) op;
};

class sleep_awaiter : cancel_registration {
public:
  explicit sleep_awaiter(std::chrono::steady_clock::time_point deadline) : deadline_(deadline) {}
  sleep_awaiter(sleep_awaiter&& o) noexcept : deadline_(o.deadline_) {} // before it is awaited
  sleep_awaiter& operator=(sleep_awaiter&&) = delete;
  ~sleep_awaiter() { disarm_cancel(root_, this); }

  bool await_ready() const noexcept { return false; }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    scheduler* s = scheduler::current();
    io_service& io = current_io();
    if (external_mode(io)) {
      external_ = std::make_unique<external_sleep>(io.next_context(), deadline_);
      return external_->op.await_suspend(h); // use_task follows the cancellation itself
    }
    root_ = cancel_root(h, *this);
    cancel_lock lock(root_);
    if (lock.pending()) {
      cancelled_ = true;
      return false;
    }
    if (deadline_ <= std::chrono::steady_clock::now()) return detail::yield_to_worker(h); // sleep(0)
    io_ = &io;
    on_cancel = &stop_sleeping;
    what = "sleep";
    // Once registered the sleep may end and the frame be freed before this returns when no
    // root's lock holds it back: nothing of the frame is touched after this call.
    register_sleep(io, node_, deadline_, h, *s);
    lock.arm(this);
    return true;
  }

  void await_resume() {
    if (external_) return void(external_->op.await_resume());
    task_header* root = std::exchange(root_, nullptr);
    disarm_cancel(root, this);
    if (cancelled_) deliver_cancel(root);
    deliver_if_pending(root); // sleep(0) is a cancellation point too
  }

private:
  static bool external_mode(io_service& io) noexcept { return io.timers() == nullptr; }
  static void stop_sleeping(cancel_registration* r) noexcept {
    auto* a = static_cast<sleep_awaiter*>(r);
    if (a->io_ && cancel_sleep(*a->io_, a->node_)) a->cancelled_ = true;
  }

  std::chrono::steady_clock::time_point deadline_;
  task_header* root_ = nullptr;
  io_service* io_ = nullptr;
  bool cancelled_ = false;
  alignas(8) unsigned char node_[sleep_node_size]; // a sleep_node (io/src/timer.cpp)
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
