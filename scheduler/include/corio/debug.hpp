#pragma once
// Debug mode (asyncio's debug mode): reports coroutine steps that hold a worker too long.
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
#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>

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

} // namespace corio
