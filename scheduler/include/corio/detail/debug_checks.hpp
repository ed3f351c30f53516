#pragma once
// Internal: the checks debug mode adds to inline code (corio/debug.hpp). Each costs one relaxed
// load when debug mode is off, and only on paths that are already unusual (a task destroyed
// before it ran, a join_handle dropped unawaited).
#include <atomic>

namespace corio::detail {

struct promise_base;
struct task_header;

// Runtimes in debug mode, plus one for the whole process when CORIO_DEBUG is set.
extern std::atomic<int> debug_users;
inline bool debug_active() noexcept { return debug_users.load(std::memory_order_relaxed) > 0; }

// A task<T> is destroyed before its body ever ran (asyncio: "coroutine ... was never awaited").
void report_never_awaited(const promise_base& p) noexcept;
// A join_handle is dropped without co_await, cancel() or detach() (h: the task's header).
void report_dropped_handle(const task_header* h, bool finished) noexcept;

} // namespace corio::detail
