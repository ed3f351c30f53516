#pragma once
// corio::shield (asyncio.shield): await something that a cancellation of the caller must not
// interrupt.
//
//   auto receipt = co_await corio::shield(commit(txn));  // cancel() of this task: commit runs on
//
// The awaitable runs as a task of its own. If the calling task is cancelled while waiting, the
// caller gets cancelled_error at once and the shielded task keeps running, detached: its result
// is dropped, and an exception it ends with is reported as never retrieved. Cancelling the
// shielded work itself is not possible from outside (keep a join_handle from create_task and
// use join_handle::wait_detached() for that). Must be awaited inside a corio runtime.
#include <corio/awaitable.hpp>
#include <corio/create_task.hpp>
#include <corio/task.hpp>

#include <type_traits>
#include <utility>

namespace corio {

namespace detail {
template <class A>
task<await_result_t<A&&>> shield_impl(A a) {
  auto h = create_task(std::move(a));
  co_return co_await h.wait_detached();
}
} // namespace detail

template <awaitable A>
auto shield(A&& a) {
  return detail::shield_impl<std::remove_cvref_t<A>>(std::forward<A>(a));
}

} // namespace corio
