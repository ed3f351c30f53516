#pragma once
// corio::create_task (asyncio.create_task): start a task now, concurrently with the caller.
//
//   corio::task<int> work(int i);
//   corio::task<void> main_task() {
//     auto a = corio::create_task(work(1));  // queued on this worker, stealable by others
//     auto b = corio::create_task(work(2));
//     int sum = co_await a + co_await b;
//   }
//
// Accepts any awaitable (the awaitable concept): what is not a task is wrapped in one.
// Must be called from code running on a corio worker (inside a task); from any other thread use
// runtime::spawn, which does the same thread-safely. Throws corio::runtime_error outside a
// runtime and corio::invalid_state_error for an empty or already-awaited task. The returned
// join_handle may be dropped to detach the task.
#include <corio/awaitable.hpp>
#include <corio/join_handle.hpp>
#include <corio/scheduler.hpp>
#include <corio/task.hpp>

#include <string>

namespace corio {

template <class T>
join_handle<T> create_task(task<T> t) {
  scheduler* s = scheduler::current();
  if (!s)
    throw runtime_error("corio: create_task() called outside a corio runtime; "
                        "use runtime::spawn() from other threads");
  return s->spawn(std::move(t));
}

// The same, with a name (asyncio's create_task(coro, name=...)): shown by all_tasks(), traces and
// debug mode's slow-step reports.
template <class T>
join_handle<T> create_task(task<T> t, std::string name) {
  scheduler* s = scheduler::current();
  if (!s)
    throw runtime_error("corio: create_task() called outside a corio runtime; "
                        "use runtime::spawn() from other threads");
  return s->spawn(std::move(t), std::move(name));
}

namespace detail {
template <class A>
task<await_result_t<A&&>> await_as_task(A a) {
  co_return co_await std::move(a);
}
} // namespace detail

// Any other awaitable (an offload, a sleep, a lock acquisition, an Asio operation with
// use_task...) becomes a task of its own: `create_task(corio::offload(crunch, data))`.
template <awaitable A>
  requires(!std::is_same_v<std::remove_cvref_t<A>, task<await_result_t<A&&>>>)
auto create_task(A&& a) {
  return create_task(detail::await_as_task<std::remove_cvref_t<A>>(std::forward<A>(a)));
}
template <awaitable A>
  requires(!std::is_same_v<std::remove_cvref_t<A>, task<await_result_t<A&&>>>)
auto create_task(A&& a, std::string name) {
  return create_task(detail::await_as_task<std::remove_cvref_t<A>>(std::forward<A>(a)), std::move(name));
}

} // namespace corio
