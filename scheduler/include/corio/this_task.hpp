#pragma once
// corio::this_task: what a task can ask about itself: its cancellation (asyncio's
// Task.cancelling() / Task.uncancel(), and a std::stop_token for code that speaks std), its name
// and id (Task.get_name()).
//
//   corio::task<void> worker() {
//     std::stop_token st = co_await corio::this_task::get_stop_token();
//     std::stop_callback cb(st, [&] { my_blocking_thing.interrupt(); });  // runs on cancel()
//     bool cancelled = false;
//     try {
//       co_await work();
//     } catch (const corio::cancelled_error&) {
//       cancelled = true;                  // C++ cannot co_await inside a catch block
//     }
//     if (cancelled) {
//       co_await flush_logs();             // cleanup may await: the request was delivered once
//       throw corio::cancelled_error();    // re-raising is what callers expect
//     }
//   }
//
// Each is awaited (it reads the calling task's state; none suspends). They refer to the spawned
// task the caller runs in: a plain task awaited by another shares its awaiter's cancellation.
// Outside a corio task: cancelling() is 0, uncancel() does nothing, the token never stops.
//
// - cancelling(): how many cancellation requests are outstanding (cancel() calls not undone by
//   uncancel()); stays non-zero after the cancelled_error was delivered, as in asyncio.
// - uncancel(): undoes one request; when none remain a request not yet delivered is withdrawn.
//   Returns the remaining count. For code that swallows a cancellation on purpose (timeouts).
// - throw_if_cancelled(): a cancellation point that does not suspend: throws cancelled_error
//   (delivering the request) if one is pending. For long CPU loops inside a task.
// - name(), id(): the name given to create_task(t, name) ("" if none) and the task's id (its
//   frame address, as all_tasks() and traces show it; 0 outside a corio task).
// - get_stop_token(): a token that is stopped when the task is cancelled (at once if it already
//   was); its std::stop_callbacks run on the cancelling thread, so they must be short and
//   thread-safe: use them to interrupt your own awaitable, which then resumes the task.
#include <corio/detail/cancel.hpp>
#include <corio/detail/stop_sources.hpp>
#include <corio/detail/task_names.hpp>

#include <coroutine>
#include <cstdint>
#include <stop_token>

namespace corio::this_task {

namespace detail {

// Reads the caller's root in await_suspend (no suspension) and applies F to it.
template <class F>
struct root_query {
  F fn;
  corio::detail::task_header* root = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    root = corio::detail::cancel_root(h);
    return false;
  }
  decltype(auto) await_resume() { return fn(root); }
};
template <class F>
root_query<F> make_query(F f) {
  return root_query<F>{f};
}

} // namespace detail

inline auto cancelling() {
  return detail::make_query([](corio::detail::task_header* r) { return corio::detail::cancelling_count(r); });
}

inline auto uncancel() {
  return detail::make_query([](corio::detail::task_header* r) { return corio::detail::uncancel(r); });
}

inline auto throw_if_cancelled() {
  return detail::make_query([](corio::detail::task_header* r) { corio::detail::deliver_if_pending(r); });
}

// The task's name (create_task(t, name)), "" if it has none; and its id (all_tasks(), traces).
inline auto name() {
  return detail::make_query([](corio::detail::task_header* r) { return r ? corio::detail::task_name(r) : std::string(); });
}
inline auto id() {
  return detail::make_query([](corio::detail::task_header* r) {
    return r ? reinterpret_cast<std::uintptr_t>(corio::detail::frame_of(r)) : std::uintptr_t{0};
  });
}

inline auto get_stop_token() {
  return detail::make_query([](corio::detail::task_header* r) { return corio::detail::task_stop_token(r); });
}

} // namespace corio::this_task
