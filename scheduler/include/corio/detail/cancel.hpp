#pragma once
// Internal: the cancellation protocol every corio awaitable honours (join_handle::cancel).
//
// State lives with the spawned task at the root of an await chain (its header's cancel word, its
// promise's waiting_on_); every awaited task knows that root (promise_base::root()). A request
// sets the pending bit and counts one more cancelling(); it is delivered as cancelled_error at
// the next suspension point that can be cancelled, exactly once (delivery clears the bit).
//
// An awaiter that can be cancelled does, in await_suspend:
//   cancel_lock lock(root);
//   if (lock.pending()) -> do not start, do not suspend; await_resume throws (sticky requests)
//   start the operation (link a wait node, arm a timer...)
//   lock.arm(this)      -> the root's waiting_on = this registration
// and in await_resume (or its destructor, if the frame dies suspended) disarms under the lock.
// A request takes the same lock, so it either sees the registration and calls on_cancel under
// the lock, or the registration was already gone. on_cancel never resumes the waiter on the
// canceller's stack: it takes the waiter out of what it waits in (if it is still there: the
// operation may have completed first, and then the result wins and the request stays pending
// for the next suspension point) and schedules it. The lock is only ever taken first, before a
// primitive's own lock, so there is one lock order.
#include <corio/detail/task_header.hpp>
#include <corio/detail/promise.hpp>
#include <corio/errors.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <type_traits>

namespace corio::detail {

struct cancel_registration {
  // Called at most once, with the root's cancel lock held, on the thread that requested the
  // cancellation. Must be short and must not resume the waiter inline.
  void (*on_cancel)(cancel_registration*) noexcept = nullptr;
  // What the task waits in, for all_tasks() (corio/task_info.hpp); a string literal.
  const char* what = "a cancellable operation";
  // The coroutine that waits (the innermost of its task's await chain), for the await-chain dump.
  const promise_base* leaf = nullptr;
};

// The root a suspending coroutine belongs to (null for coroutines that are not corio tasks).
template <class P>
task_header* cancel_root(std::coroutine_handle<P> h) noexcept {
  if constexpr (std::is_base_of_v<promise_base, P>)
    return h.promise().root();
  else
    return nullptr;
}
// The same, for an awaiter that is a registration: also records h as the waiting coroutine.
template <class P>
task_header* cancel_root(std::coroutine_handle<P> h, cancel_registration& r) noexcept {
  if constexpr (std::is_base_of_v<promise_base, P>) {
    r.leaf = &h.promise();
    return h.promise().root();
  } else {
    return nullptr;
  }
}

// What the root task is suspended in, if that can be cancelled; under the root's cancel lock.
inline cancel_registration*& waiting_on(task_header* root) noexcept { return promise_of(root)->waiting_on_; }

// The cancel lock is held for a few instructions: contention is rare, and its spin loop stays out
// of line so that every awaiter that takes the lock stays small where it is inlined.
void lock_cancel_contended(task_header* h) noexcept;
inline void lock_cancel(task_header* h) noexcept {
  if (h->cancel.fetch_or(cancel_locked, std::memory_order_acquire) & cancel_locked) [[unlikely]]
    lock_cancel_contended(h);
}
inline void unlock_cancel(task_header* h) noexcept { h->cancel.fetch_and(~cancel_locked, std::memory_order_release); }

// RAII for the root's cancel lock; a null root (no cancellation) makes every call a no-op.
class cancel_lock {
public:
  explicit cancel_lock(task_header* root) noexcept : root_(root) {
    if (root_) lock_cancel(root_);
  }
  cancel_lock(const cancel_lock&) = delete;
  cancel_lock& operator=(const cancel_lock&) = delete;
  ~cancel_lock() {
    if (root_) unlock_cancel(root_);
  }
  bool pending() const noexcept { return root_ && (root_->cancel.load(std::memory_order_relaxed) & cancel_pending); }
  bool follows_a_task() const noexcept { return root_ != nullptr; }
  // Makes r the task's current cancellable wait. Call after the operation has started.
  void arm(cancel_registration* r) noexcept {
    if (root_) waiting_on(root_) = r;
  }

private:
  task_header* root_;
};

// Removes r as the task's current wait, if it still is. After this returns no on_cancel call
// for r is running or will run, so the awaiter may go away.
inline void disarm_cancel(task_header* root, cancel_registration* r) noexcept {
  if (!root) return;
  lock_cancel(root);
  if (cancel_registration*& w = waiting_on(root); w == r) w = nullptr;
  unlock_cancel(root);
}

inline bool cancel_is_pending(task_header* root) noexcept {
  return root && (root->cancel.load(std::memory_order_acquire) & cancel_pending);
}

// Requests cancellation of the task whose header is h (join_handle::cancel). The caller keeps
// the header alive (a join_handle, or the task itself). Returns false if it has finished.
bool request_cancel(task_header* h) noexcept;

// Takes the pending request (delivery) without throwing.
void consume_cancel(task_header* root) noexcept;
// Takes the pending request (delivery) and throws corio::cancelled_error.
[[noreturn]] void deliver_cancel(task_header* root);
// Delivers a pending request, if any (a cancellation point that does not suspend).
inline void deliver_if_pending(task_header* root) {
  if (cancel_is_pending(root)) [[unlikely]]
    deliver_cancel(root);
}

// Yields the root of the awaiting task without suspending: `co_await current_root_awaiter{}`.
struct current_root_awaiter {
  task_header* root = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    root = cancel_root(h);
    return false;
  }
  task_header* await_resume() const noexcept { return root; }
};

// asyncio's Task.cancelling() and Task.uncancel(); uncancel clears a request not delivered yet
// when the count drops to zero.
std::uint32_t cancelling_count(task_header* root) noexcept;
std::uint32_t uncancel(task_header* root) noexcept;

} // namespace corio::detail
