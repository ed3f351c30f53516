#pragma once
// Internal: how an I/O completion gets its coroutine back onto the scheduler.
#include <coroutine>

namespace corio {
class scheduler;
}

namespace corio::detail {

// Resumes h on s through the scheduler's door. On one of the runtime's I/O threads the handle is
// added to that thread's batch instead, and the batch goes in with one wake-up when the thread
// has run every ready completion.
void resume_from_io(scheduler& s, std::coroutine_handle<> h) noexcept;

} // namespace corio::detail
