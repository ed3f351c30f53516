#pragma once
// Internal: a coroutine parked in a list guarded by a std::mutex until someone wakes it (a
// connection's drain and wait_closed, a server's serve_forever and wait_closed).
//
// Cancellable (cancel.hpp): a cancellation takes the waiter out of its list, if it is still
// there, and schedules it; await_resume then throws cancelled_error. The task's cancel lock is
// taken before the list's mutex, never the other way round.
#include <corio/detail/cancel.hpp>
#include <corio/scheduler.hpp>

#include <algorithm>
#include <coroutine>
#include <mutex>
#include <vector>

namespace corio::detail {

// A parked coroutine, resumed through its scheduler.
struct conn_waiter {
  std::coroutine_handle<> h;
  scheduler* sched;
};

// Wakes every waiter of `ws` (call with the list's mutex held) and empties it.
inline void wake_parked(std::vector<conn_waiter>& ws) noexcept {
  for (auto& w : ws) w.sched->schedule(w.h);
  ws.clear();
}

class parked_wait : cancel_registration {
public:
  // Parks unless ready(ctx) (checked under mu) holds.
  parked_wait(std::mutex& mu, std::vector<conn_waiter>& list, bool (*ready)(const void*), const void* ctx) noexcept
      : mu_(mu), list_(list), ready_(ready), ctx_(ctx) {}
  parked_wait(const parked_wait&) = delete;
  parked_wait& operator=(const parked_wait&) = delete;
  ~parked_wait() { disarm_cancel(root_, this); }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    root_ = cancel_root(h, *this);
    cancel_lock cancel(root_);
    if (cancel.pending()) {
      cancelled_ = true;
      return false;
    }
    std::lock_guard lock(mu_);
    if (ready_(ctx_)) return false;
    h_ = h;
    list_.push_back({h, scheduler::current()});
    on_cancel = &withdraw;
    what = "a stream or server (drain, wait_closed, serve_forever)";
    cancel.arm(this);
    return true;
  }
  void await_resume() {
    task_header* root = std::exchange(root_, nullptr);
    disarm_cancel(root, this);
    if (cancelled_) deliver_cancel(root);
  }

private:
  static void withdraw(cancel_registration* r) noexcept {
    auto* self = static_cast<parked_wait*>(r);
    std::lock_guard lock(self->mu_);
    auto it = std::find_if(self->list_.begin(), self->list_.end(), [&](const conn_waiter& w) { return w.h == self->h_; });
    if (it == self->list_.end()) return; // woken first: the wake-up wins
    scheduler* s = it->sched;
    self->list_.erase(it);
    self->cancelled_ = true;
    s->schedule(self->h_);
  }

  std::mutex& mu_;
  std::vector<conn_waiter>& list_;
  bool (*ready_)(const void*);
  const void* ctx_;
  std::coroutine_handle<> h_{};
  task_header* root_ = nullptr;
  bool cancelled_ = false;
};

} // namespace corio::detail
