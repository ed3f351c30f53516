#pragma once
// Internal: the trace points corio's own code calls (corio/trace.hpp is the public side).
//
//   if (trace_enabled()) [[unlikely]] trace_event(trace_kind::spawn, trace_clock(), 0, frame, parent);
#include <atomic>
#include <cstdint>

namespace corio::detail {

enum class trace_kind : std::uint8_t {
  step = 1,       // a coroutine ran on a worker: [start, end], a = its frame
  spawn = 2,      // a = the new task's frame, b = the coroutine that spawned it (0: another thread)
  complete = 3,   // a spawned task finished: a = its frame
  steal = 4,      // a = the victim worker's index, b = tasks taken
  park = 5,       // a worker slept: [start, end]
  io_handoff = 6, // an I/O thread handed a batch to the scheduler: a = coroutines in it
  offload = 7,    // an offloaded job ran: [start, end]
};

extern std::atomic<bool> trace_on;

inline bool trace_enabled() noexcept { return trace_on.load(std::memory_order_relaxed); }
// Nanoseconds on the steady clock.
std::uint64_t trace_clock() noexcept;
// Records on the calling thread's ring. end = 0 for an instant.
void trace_event(trace_kind k, std::uint64_t start, std::uint64_t end, std::uint64_t a, std::uint64_t b) noexcept;

} // namespace corio::detail
