#pragma once
// Debug mode (asyncio's debug mode): reports coroutine steps that hold a worker too long, and the
// mistakes asyncio's debug mode catches.
//
// Turn it on with scheduler_options/runtime_options `debug = true` or the environment variable
// CORIO_DEBUG=1. A watchdog thread then samples the workers; a step (the stretch between two
// suspensions of one coroutine) that has run for longer than `slow_step_threshold` (100 ms by
// default, asyncio's slow_callback_duration) is reported once, while it is still running, through
// the handler below. A step like that keeps every task queued on that worker waiting: CPU-bound
// work belongs in corio::offload, and so do blocking calls.
//
//   corio::set_slow_step_handler([](const corio::slow_step_info& s) {
//     log.warn("task {} blocked worker {} for {} ms", s.task_name, s.worker, s.duration.count());
//   });
//
// Cost: the workers record which coroutine they run (two stores per step, debug or not); the
// watchdog wakes a few times per threshold. Handlers run on the watchdog thread.
//
// Debug mode also reports, through set_debug_handler (default: a line on stderr):
// - pending_task_destroyed: a runtime shut down while a task was still pending; its await chain
//   says where it was suspended (asyncio: "Task was destroyed but it is pending!").
// - never_awaited: a task<T> destroyed before it ever ran — nearly always a missing co_await
//   (asyncio: "coroutine 'f' was never awaited").
// - handle_dropped: the join_handle of create_task was dropped without co_await, cancel() or
//   detach(). Dropping detaches the task, as in tokio; say detach() when that is what you mean.
// - lock_across_await: a worker has been blocked for a whole threshold on a std::mutex that a
//   worker thread holds — typically a std::lock_guard kept across a co_await: the coroutine
//   suspended with the mutex locked, and whoever runs next on that worker (or another) waits for
//   it. Detected by the watchdog from the blocked thread's futex wait (Linux, glibc, x86-64),
//   so it costs nothing until a worker is stuck; use corio::mutex across suspension points.
// And on SIGQUIT (Ctrl-\) it prints every runtime's tasks with their await chains to stderr,
// unless the program installed its own SIGQUIT handler first.
//
// Debug mode is process-wide: it is on while any runtime was created with `debug = true`, or
// always when CORIO_DEBUG is set. While it is on, every spawned task remembers its creator (the
// `parent` of all_tasks()) and its creation time.
#include <corio/task_info.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace corio {

struct slow_step_info {
  std::size_t worker;                  // index of the worker that is held
  std::chrono::milliseconds duration;  // how long the step has run so far
  const void* coroutine;               // the frame being resumed (what a debugger can look at)
  std::string_view task_name;          // the spawned task's name, or "" if it has none
};

using slow_step_handler = std::function<void(const slow_step_info&)>;

// Replaces the process-wide handler (nullptr restores the default, a line on stderr with fmt);
// returns the previous one.
slow_step_handler set_slow_step_handler(slow_step_handler handler);

// True when CORIO_DEBUG is set to something other than "0".
bool debug_requested_by_environment() noexcept;

enum class debug_event { pending_task_destroyed, never_awaited, handle_dropped, lock_across_await };
std::string_view to_string(debug_event e) noexcept;

struct debug_report {
  debug_event event;
  std::uintptr_t task = 0;              // the task's id (all_tasks()), 0 when there is none
  std::string name;                     // the task's name, or ""
  std::string function;                 // the coroutine's function, or "" if it cannot be told
  std::vector<await_frame> await_chain; // pending_task_destroyed: where it was suspended
  std::string message;                  // what happened and what to do, for people
};

using debug_handler = std::function<void(const debug_report&)>;

// Replaces the process-wide handler for these reports (nullptr: the default, "corio debug:"
// and the message on stderr); returns the previous one. Handlers may run on any thread (the
// one dropping a handle, the watchdog, the one shutting a runtime down) and must not throw.
debug_handler set_debug_handler(debug_handler handler);

} // namespace corio
