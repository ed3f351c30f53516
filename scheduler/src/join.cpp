// The join protocol between a spawned task and its join_handle (see task_header.hpp for the
// state bits). Each transition is one atomic read-modify-write, so whichever side acts second
// sees what the first did: exactly one of them destroys the frame, exactly one frees the block.
#include <corio/detail/trace_points.hpp>
#include "scheduler_core.hpp"

#include <corio/detail/promise.hpp>
#include <corio/join_handle.hpp>
#include <corio/scheduler.hpp>
#include <corio/unhandled_exception.hpp>

namespace corio::detail {

namespace {

// A task that ended cancelled is not a failure nobody saw (asyncio does not log those either).
void report_unretrieved(const std::exception_ptr* e) noexcept {
  if (e && *e && !is_cancellation(*e)) report_unhandled_exception(*e, "Task exception was never retrieved");
}

// The rare parts of the two functions below, out of line so that their common cases save no
// registers (they run once per spawned task).
[[gnu::noinline]] std::coroutine_handle<> destroy_detached(std::coroutine_handle<> self,
                                                            const std::exception_ptr* unretrieved) noexcept {
  report_unretrieved(unretrieved);
  self.destroy();
  return std::noop_coroutine();
}

// complete_spawned's work, shared by its common case and the traced one.
std::coroutine_handle<> complete(promise_base& p, std::coroutine_handle<> self, const std::exception_ptr* unretrieved) noexcept {
  task_header* h = header_of(self.address());
  // An add, not an or: `completed` is set once, here, and GCC turns a fetch_or whose result is
  // tested into a load and a CAS loop, but a fetch_add into one `lock xadd`.
  auto prev = h->state.fetch_add(completed, std::memory_order_acq_rel);
  if (prev & awaited) {
    // Hand over to the awaiter on this worker: no queue round trip. (Awaiters always belong to
    // this runtime: check_join_from_same_runtime.)
    return transfer(p.continuation_);
  }
  if (!(prev & handle_live)) [[unlikely]]
    return destroy_detached(self, unretrieved);
  return std::noop_coroutine();
}

[[gnu::noinline]] std::coroutine_handle<> complete_traced(promise_base& p, std::coroutine_handle<> self,
                                                           const std::exception_ptr* unretrieved) noexcept {
  trace_event(trace_kind::complete, trace_clock(), 0, reinterpret_cast<std::uintptr_t>(self.address()), 0);
  return complete(p, self, unretrieved);
}

[[gnu::noinline]] void destroy_after_report(std::coroutine_handle<> self, unretrieved_reader unretrieved) noexcept {
  report_unretrieved(unretrieved(self));
  self.destroy();
}

[[gnu::noinline]] void release_unfinished(std::coroutine_handle<> self, unretrieved_reader unretrieved) noexcept {
  task_header* h = header_of(self.address());
  auto prev = h->state.fetch_and(~handle_live, std::memory_order_acq_rel);
  if (!(prev & frame_live)) { // destroyed unfinished by shutdown; only the block is left
    release_block(h);
    return;
  }
  if (prev & completed) {
    if (unretrieved) report_unretrieved(unretrieved(self));
    self.destroy();
  }
}

} // namespace

void check_join_from_same_runtime(task_header* task) {
  registry_shard* shard = task->shard.load(std::memory_order_relaxed);
  if (!shard) return; // unregistered: finished or destroyed by its runtime's shutdown
  worker* w = worker::current();
  // Compare without dereferencing: the shard of a foreign runtime may be going away.
  bool same = w && (w->core().owns_worker_shard(shard) || shard == &w->core().foreign_registry);
  if (!same)
    throw runtime_error("corio: a join_handle can only be awaited by a task of the runtime that runs "
                        "its task; use runtime::block_on from other threads");
}

void schedule_on(scheduler* s, std::coroutine_handle<> h) noexcept { s->schedule(h); }

std::coroutine_handle<> complete_spawned(promise_base& p, std::coroutine_handle<> self,
                                         const std::exception_ptr* unretrieved) noexcept {
  if (trace_enabled()) [[unlikely]]
    return complete_traced(p, self, unretrieved);
  return complete(p, self, unretrieved);
}

void release_join(std::coroutine_handle<> self, unretrieved_reader unretrieved) noexcept {
  task_header* h = header_of(self.address());
  // The common case, a finished task: once `completed` is visible the task's side never touches
  // the state again (complete_spawned saw handle_live and left the frame to us), and shutdown
  // leaves finished tasks' state alone, so the handle is the only writer: a plain store will do.
  if (auto s = h->state.load(std::memory_order_acquire); (s & (completed | frame_live)) == (completed | frame_live)) [[likely]] {
    h->state.store(s & ~handle_live, std::memory_order_relaxed);
    if (unretrieved)
      destroy_after_report(self, unretrieved);
    else
      self.destroy();
    return;
  }
  release_unfinished(self, unretrieved);
}

} // namespace corio::detail
