#pragma once
// Internal: the promise types behind corio::task<T>.
//
// One promise serves both roles a task can have: awaited directly (its final suspend transfers
// to the awaiting coroutine) or spawned with create_task (its final suspend completes the join
// state in the task_header and wakes the join_handle's awaiter, if any). The value and the
// exception share storage: a task frame is what a million spawned tasks cost in memory, and
// every byte saved there is a byte fewer of fresh memory to fault in.
#include <corio/detail/stack_guard.hpp>
#include <corio/detail/frame_alloc.hpp>
#include <corio/detail/task_header.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace corio {
class scheduler;
template <class T> class task;
} // namespace corio

namespace corio::detail {

struct promise_base;
struct cancel_registration;

// True if e holds a corio::cancelled_error (rethrows it to look: only on the failure path).
bool is_cancellation(const std::exception_ptr& e) noexcept;

// Throws cancelled_error (consuming the request) if the task was cancelled before it started.
void deliver_cancel_at_start(task_header* root);

// The scheduler whose worker runs the calling thread (null elsewhere); set by each worker.
extern constinit thread_local scheduler* current_scheduler_tls;
inline scheduler* current_scheduler() noexcept { return current_scheduler_tls; }

// Completes a spawned task at its final suspend point; returns what to resume next.
// `unretrieved` points to the task's exception if nobody has taken it (reported if it is
// detached); a pointer, so the common no-exception path constructs no exception_ptr.
std::coroutine_handle<> complete_spawned(promise_base& p, std::coroutine_handle<> self,
                                         const std::exception_ptr* unretrieved) noexcept;

// The far-promise table (far_promises.cpp) of initial_awaiter: the promise of a frame too big
// for the awaiter to keep its distance, found by the awaiter's address.
inline constexpr std::uint16_t far_promise_mark = 0x8000;
void hold_far_promise(const void* awaiter, promise_base* p) noexcept;
promise_base* take_far_promise(const void* awaiter) noexcept; // finds and removes the entry
void release_far_promise(const void* awaiter) noexcept;
std::size_t far_promises_held() noexcept; // for tests

struct promise_base {
  std::coroutine_handle<> continuation_{}; // who resumes when this task finishes
  union {
    // Awaited task: the header of the spawned task it runs in (its awaiter's root), where
    // cancellation is requested and observed. Null when the awaiter is not a corio task.
    task_header* root_ = nullptr;
    // Spawned task: it is its own root (its header is in front of its frame), so this word holds
    // the root's other cancellation state instead: what the task is suspended in, if that can be
    // cancelled (cancel.hpp). Changes only under the root's cancel lock.
    cancel_registration* waiting_on_;
  };
  bool spawned_ = false;   // started by create_task/spawn: completion goes through the header
  bool retrieved_ = false; // the result or exception was taken by an awaiter
  std::uint8_t kind_ = 0;  // what the derived promise holds: see below
  bool cancelled_ = false; // finished with corio::cancelled_error
  bool deliver_at_start_ = true; // see initial_awaiter (task_group children handle it themselves)
  // For the await-chain dump (task_info.hpp), which walks from the innermost coroutine outwards:
  // the coroutine awaiting this one (continuation_) is a corio task, so its promise lies at
  // promise_offset in its frame. A byte of padding otherwise: the frame does not grow.
  bool awaited_by_task_ = false;

  static constexpr std::uint8_t holds_nothing = 0, holds_value = 1, holds_error = 2;

  // Where GCC and clang place a promise in its coroutine frame: after the resume and destroy
  // pointers (coroutine_handle::from_promise relies on it), for a promise aligned to at most 16
  // bytes, which task<T> requires. So the header and the promise find each other.
  static constexpr std::size_t promise_offset = 2 * sizeof(void*);
  const void* frame() const noexcept { return reinterpret_cast<const char*>(this) - promise_offset; }
  task_header* own_header() const noexcept { return header_of(const_cast<void*>(frame())); }
  // The root of the await chain this task runs in (null outside corio tasks).
  task_header* root() const noexcept { return spawned_ ? own_header() : root_; }

  static void* operator new(std::size_t n) { return allocate_frame(n); }
  static void operator delete(void* p, std::size_t n) noexcept { free_frame(p, n); }

  // A spawned task cancelled before it first runs never starts its body: the cancellation is
  // delivered at this first resumption (asyncio does the same for a Task cancelled early).
  // The awaiter lives in the frame across the suspension, so instead of a pointer to the promise
  // (8 bytes, which made an empty task's frame 16 bytes bigger) it keeps how far below itself the
  // promise lies in 2 bytes that fit in the frame's padding. A frame so big that the distance
  // does not fit (32 KiB or more of parameters or result) parks the pointer in a table instead.
  struct initial_awaiter {
    std::uint16_t to_promise = 0; // the distance, or far_promise_mark: see far_promises.cpp

    initial_awaiter() noexcept = default;
    initial_awaiter(const initial_awaiter&) = delete;
    initial_awaiter& operator=(const initial_awaiter&) = delete;
    ~initial_awaiter() {
      if (to_promise == far_promise_mark) [[unlikely]]
        release_far_promise(this);
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> self) noexcept {
      promise_base& p = self.promise();
      const auto d = reinterpret_cast<const char*>(this) - reinterpret_cast<const char*>(&p);
      if (d > 0 && d < far_promise_mark) [[likely]] {
        to_promise = static_cast<std::uint16_t>(d);
      } else {
        hold_far_promise(this, &p);
        to_promise = far_promise_mark;
      }
    }
    void await_resume() {
      const promise_base* p;
      if (to_promise == far_promise_mark) [[unlikely]] {
        // Taken out here, not left to the destructor: GCC skips the awaiter's destructor when
        // await_resume throws (the cancellation below).
        p = take_far_promise(this);
        to_promise = 0;
      } else {
        p = reinterpret_cast<const promise_base*>(reinterpret_cast<const char*>(this) - to_promise);
      }
      if (p->spawned_ && p->deliver_at_start_ && (p->own_header()->cancel.load(std::memory_order_acquire) & cancel_pending)) [[unlikely]]
        deliver_cancel_at_start(p->own_header());
    }
  };
  initial_awaiter initial_suspend() noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) noexcept {
      P& p = self.promise();
      if (!p.spawned_) return transfer(p.continuation_);
      // From here on cancel() returns false (request_cancel reads the `completed` bit that
      // complete_spawned sets). A request still pending — the task finished before reaching
      // another suspension point — changes nothing: the result wins, as it does for any
      // operation that completes before its cancellation (tokio's abort does the same;
      // converting a computed result into a cancellation would lose the data it carries, e.g. a
      // line a read already took off the socket).
      return complete_spawned(p, self, p.unretrieved_error());
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }

};

// The promise of the spawned task whose header is h (see promise_offset).
inline promise_base* promise_of(task_header* h) noexcept {
  return std::launder(reinterpret_cast<promise_base*>(static_cast<char*>(frame_of(h)) + promise_base::promise_offset));
}

// Storage shared by every promise<T> that holds an object: the value or the exception.
template <class V>
struct result_storage : promise_base {
  result_storage() noexcept {}
  ~result_storage() {
    if (kind_ == holds_value)
      value_.~V();
    else if (kind_ == holds_error)
      error_.~exception_ptr();
  }
  void unhandled_exception() noexcept {
    ::new (static_cast<void*>(std::addressof(error_))) std::exception_ptr(std::current_exception());
    kind_ = holds_error;
    cancelled_ = is_cancellation(error_);
  }
  const std::exception_ptr* unretrieved_error() const noexcept {
    return (kind_ == holds_error && !retrieved_) ? &error_ : nullptr;
  }
  template <class... A>
  void set_value(A&&... a) {
    ::new (static_cast<void*>(std::addressof(value_))) V(std::forward<A>(a)...);
    kind_ = holds_value;
  }
  // The exception, marked retrieved (the caller checked kind_ == holds_error).
  std::exception_ptr take_error() noexcept {
    retrieved_ = true;
    return error_;
  }
  V& value_or_rethrow() {
    retrieved_ = true;
    if (kind_ == holds_error) std::rethrow_exception(error_);
    return value_;
  }

  union {
    V value_;
    std::exception_ptr error_;
  };
};

template <class T>
struct promise final : result_storage<T> {
  task<T> get_return_object() noexcept;
  template <class U = T>
    requires std::is_constructible_v<T, U&&>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    this->set_value(std::forward<U>(v));
  }
  T take() { return std::move(this->value_or_rethrow()); }
};

template <class T>
struct promise<T&> final : result_storage<T*> {
  task<T&> get_return_object() noexcept;
  void return_value(T& v) noexcept { this->set_value(std::addressof(v)); }
  T& take() { return *this->value_or_rethrow(); }
};

struct void_value {};

template <>
struct promise<void> final : result_storage<void_value> {
  task<void> get_return_object() noexcept;
  void return_void() noexcept { set_value(); }
  void take() { value_or_rethrow(); }
};

} // namespace corio::detail
