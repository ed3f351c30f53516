#pragma once
// corio::task<T>: a lazy coroutine that produces a T (asyncio: a coroutine object).
//
// A task does nothing until it is awaited or handed to create_task / runtime::spawn. Awaiting it
// runs it on the awaiting coroutine's worker via symmetric transfer; the awaiter receives the
// value, or the exception exactly as it was thrown.
//
//   corio::task<int> answer() { co_return 42; }
//   corio::task<void> user() {
//     int v = co_await answer();               // runs answer() now, resumes here with 42
//     auto h = corio::create_task(answer());  // runs concurrently, see create_task.hpp
//     v += co_await h;
//   }
//
// Threading: the awaiter resumes on the worker that finished the task (the same one for a task
// that never suspends). Misuse — awaiting a task twice, or an empty/moved-from task — throws
// corio::invalid_state_error from the co_await expression instead of being undefined.
// Cancellation: a task has no cancellation of its own; it sees the cancellation of the spawned
// task it runs inside (see join_handle.hpp).
#include <corio/detail/cancel.hpp>
#include <corio/detail/debug_checks.hpp>
#include <corio/detail/promise.hpp>
#include <corio/errors.hpp>

#include <coroutine>
#include <utility>

namespace corio {

template <class T = void>
class [[nodiscard]] task {
public:
  using promise_type = detail::promise<T>;
  using value_type = T;
  // Coroutine frames are 16-byte aligned (GCC 12 and clang 14 do not align them further), so a
  // more strictly aligned result would be misplaced; return it in a std::unique_ptr instead.
  static_assert(alignof(promise_type) <= detail::promise_base::promise_offset,
                "corio::task<T> needs alignof(T) <= 16");

  task() noexcept = default;
  explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  // True while the task owns a coroutine (not default-constructed, moved from or spawned).
  bool valid() const noexcept { return static_cast<bool>(h_); }

  struct awaiter {
    std::coroutine_handle<promise_type> h;

    bool await_ready() const {
      if (!h) throw invalid_state_error("corio: co_await on an empty task (moved-from or spawned)");
      if (h.promise().continuation_ || h.done())
        throw invalid_state_error("corio: a task can be awaited only once");
      return false;
    }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
      h.promise().continuation_ = caller;
      h.promise().root_ = detail::cancel_root(caller); // it runs inside the caller's task
      h.promise().awaited_by_task_ = std::is_base_of_v<detail::promise_base, P>;
      return detail::transfer(h);
    }
    decltype(auto) await_resume() { return h.promise().take(); }
  };

  awaiter operator co_await() & noexcept { return awaiter{h_}; }
  awaiter operator co_await() && noexcept { return awaiter{h_}; }

  // Gives up ownership of the coroutine (used by create_task and spawn).
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }

private:
  void reset() noexcept {
    if (!h_) return;
    auto h = std::exchange(h_, {});
    // Awaiting is the only way a task object's coroutine runs (create_task and spawn release it),
    // and the awaiter records its continuation first.
    if (!h.promise().continuation_ && detail::debug_active()) [[unlikely]]
      detail::report_never_awaited(h.promise());
    h.destroy();
  }
  std::coroutine_handle<promise_type> h_{};
};

namespace detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
  auto h = std::coroutine_handle<promise<T>>::from_promise(*this);
  return task<T>(h);
}
template <class T>
task<T&> promise<T&>::get_return_object() noexcept {
  auto h = std::coroutine_handle<promise<T&>>::from_promise(*this);
  return task<T&>(h);
}
inline task<void> promise<void>::get_return_object() noexcept {
  auto h = std::coroutine_handle<promise<void>>::from_promise(*this);
  return task<void>(h);
}
} // namespace detail

} // namespace corio
