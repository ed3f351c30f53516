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
// Must be called from code running on a corio worker (inside a task); from any other thread use
// runtime::spawn, which does the same thread-safely. Throws corio::runtime_error outside a
// runtime and corio::invalid_state_error for an empty or already-awaited task. The returned
// join_handle may be dropped to detach the task.
#include <corio/join_handle.hpp>
#include <corio/scheduler.hpp>
#include <corio/task.hpp>

namespace corio {

template <class T>
join_handle<T> create_task(task<T> t) {
  scheduler* s = scheduler::current();
  if (!s)
    throw runtime_error("corio: create_task() called outside a corio runtime; "
                        "use runtime::spawn() from other threads");
  return s->spawn(std::move(t));
}

} // namespace corio
