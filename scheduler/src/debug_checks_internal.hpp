#pragma once
// Internal: what the scheduler and its watchdog use of debug mode (debug_checks.cpp).
#include <corio/debug.hpp>

#include <atomic>
#include <cstdint>

namespace corio::detail {

// A runtime in debug mode starts and ends; the first one installs the SIGQUIT dump.
void begin_debug_runtime();
void end_debug_runtime() noexcept;
// Incremented by the SIGQUIT handler; each debug runtime's watchdog dumps its tasks on a change.
extern std::atomic<std::uint64_t> sigquit_requests;
// Hands a report to the handler (or stderr). Never throws.
void deliver_debug_report(const corio::debug_report& r) noexcept;

struct task_header;
// Shutdown is about to destroy this unfinished task (no worker runs any more).
void report_pending_destroyed(task_header* h) noexcept;
// Set while shutdown destroys unfinished tasks: the unstarted tasks their frames own were not
// forgotten by anyone, so they are not reported as never awaited.
extern thread_local bool destroying_pending_tasks;

} // namespace corio::detail
