#pragma once
// Internal: bounds the native stack used by chains of symmetric transfers.
//
// Symmetric transfer only runs in constant stack when the compiler turns `return h;` from
// await_suspend into a tail call. GCC does so only with -foptimize-sibling-calls, and never under
// TSan (which also aborts past 65,536 nested calls). Every transfer corio makes goes through
// transfer(): when the current frame is deeper than the worker's budget, the target is handed to
// the worker's queue instead and the stack unwinds back to the worker loop, which then resumes it.
// Outside a worker the limit is null and nothing is checked.
#include <coroutine>

namespace corio::detail {

// Lowest frame address a transfer may run at on this thread; set by each worker at start.
extern constinit thread_local char* stack_limit;

// Queues h on the current worker so it runs once the stack has unwound.
void defer_to_worker(std::coroutine_handle<> h) noexcept;

inline std::coroutine_handle<> transfer(std::coroutine_handle<> h) noexcept {
  if (static_cast<char*>(__builtin_frame_address(0)) < stack_limit) [[unlikely]] {
    defer_to_worker(h);
    return std::noop_coroutine();
  }
  return h;
}

} // namespace corio::detail
