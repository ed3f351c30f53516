#pragma once
// Internal: waiting for a socket to become readable or writable, reported by its I/O thread.
//
// Why not Asio's reactor for this: Asio registers every socket edge-triggered for all events for
// its whole life, so each arriving segment wakes the I/O thread even when nobody waits — under a
// busy echo load that was one I/O-thread wake-up (and on a shared core one context switch) per
// request. A slot is registered one-shot and only while a coroutine waits on it: the I/O thread
// hears about a socket only when someone asked (io/README.md, "Readiness").
//
//   ready_slot* s = poller.add(fd);           // takes the descriptor; closes it in close()
//   co_await ready_wait(*s, ready_slot::read); // may wake spuriously: retry the recv, loop
//   s->close();                                // wakes waiters; no event names it afterwards
//   ready_slot::retire(s);                     // freed on the I/O thread, after its current round
#include <corio/detail/cancel.hpp>
#include <corio/errors.hpp>
#include <corio/io_errors.hpp>
#include <corio/scheduler.hpp>

#include <coroutine>
#include <cstdint>
#include <mutex>
#include <system_error>

namespace corio::detail {

class ready_poller;

class ready_slot {
public:
  enum direction : int { read = 0, write = 1 };

  ready_slot(ready_poller& p, int fd) noexcept : poller_(p), fd_(fd) {}
  ready_slot(const ready_slot&) = delete;
  ready_slot& operator=(const ready_slot&) = delete;

  int fd() const noexcept { return fd_; }

  // Parks h until the descriptor is ready in direction d, or the slot is closed. Returns false
  // without parking if the slot is closed already, or if registering failed (error in ec).
  bool park(direction d, std::coroutine_handle<> h, scheduler* s, std::error_code& ec) noexcept;
  // Takes h out if it still waits in d; true if it did (the caller then resumes it).
  bool withdraw(direction d, std::coroutine_handle<> h) noexcept;
  // Closes the descriptor (and takes it out of the poller first); parked waiters are woken.
  void close() noexcept;
  // On the poller's thread: an event for this slot.
  void on_event(std::uint32_t events) noexcept;
  // Frees the slot (closing it if needed) on the poller's thread, after any event being handled
  // there: an event taken from the kernel before close() may still name it.
  static void retire(ready_slot* s) noexcept;

private:
  struct waiter {
    std::coroutine_handle<> h;
    scheduler* sched = nullptr;
  };
  bool arm_locked(std::error_code& ec) noexcept;

  ready_poller& poller_;
  int fd_;
  std::mutex mu_; // everything below; taken after the connection's lock, never before
  waiter waiters_[2];
  bool registered_ = false;
  bool closed_ = false;
};

// The awaiter: parks on the slot; cancellable (cancel.hpp). Resumes normally when the slot is
// ready or closed (the caller looks again), throws cancelled_error if cancelled, io_error if the
// registration failed.
class ready_wait : cancel_registration {
public:
  ready_wait(ready_slot& s, ready_slot::direction d) noexcept : slot_(s), dir_(d) {}
  ready_wait(const ready_wait&) = delete;
  ready_wait& operator=(const ready_wait&) = delete;
  ~ready_wait() { disarm_cancel(root_, this); }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    root_ = cancel_root(h, *this);
    cancel_lock cancel(root_);
    if (cancel.pending()) {
      cancelled_ = true;
      return false;
    }
    h_ = h;
    sched_ = scheduler::current();
    if (!sched_) throw runtime_error("corio: a stream must be used inside its corio runtime");
    on_cancel = &withdraw; // before parking: without a root the frame may be gone right after
    what = dir_ == ready_slot::read ? "a socket read" : "a socket write (peer not reading)";
    if (!slot_.park(dir_, h, sched_, ec_)) return false;
    cancel.arm(this);
    return true;
  }
  void await_resume() {
    task_header* root = std::exchange(root_, nullptr);
    disarm_cancel(root, this);
    if (cancelled_) deliver_cancel(root);
    if (ec_) throw io_error(ec_);
  }

private:
  static void withdraw(cancel_registration* r) noexcept {
    auto* self = static_cast<ready_wait*>(r);
    if (!self->slot_.withdraw(self->dir_, self->h_)) return; // woken first: that wins
    self->cancelled_ = true;
    self->sched_->schedule(self->h_);
  }

  ready_slot& slot_;
  ready_slot::direction dir_;
  std::coroutine_handle<> h_{};
  scheduler* sched_ = nullptr;
  task_header* root_ = nullptr;
  std::error_code ec_;
  bool cancelled_ = false;
};

} // namespace corio::detail
