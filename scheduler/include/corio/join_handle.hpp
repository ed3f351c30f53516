#pragma once
// corio::join_handle<T>: the handle to a task started with create_task or runtime::spawn
// (asyncio: the Task object create_task returns).
//
// Awaiting it yields the task's value or rethrows its exception. Dropping it detaches the task,
// which keeps running (like tokio's JoinHandle); if a detached task fails, or a finished task's
// exception is never retrieved, the failure is reported once through the handler in
// unhandled_exception.hpp ("Task exception was never retrieved").
//
//   auto h = corio::create_task(fetch(url));
//   do_other_things();
//   std::string body = co_await h;  // resumes on a worker once fetch() is done
//
// co_await takes the result once and frees the task there and then (its memory is in cache at
// that moment); afterwards the handle stays valid(), and done(), cancelled() and failed() still
// answer. A join_handle is one word.
//
// Threading: the awaiter resumes on the worker that finished the task, which hands over
// directly. Await a handle only from a task of the same runtime (from another one it throws
// corio::runtime_error; from a plain thread use runtime::block_on). Awaiting twice or awaiting
// an empty handle throws corio::invalid_state_error. If the task was destroyed unfinished by a
// runtime shutdown, awaiting it throws corio::cancelled_error.
//
// cancel() is asyncio's Task.cancel(): see cancel() below and scheduler/README.md for the
// protocol (sticky, delivered at most once, at a suspension point, on the scheduler).
#include <corio/detail/cancel.hpp>
#include <corio/detail/debug_checks.hpp>
#include <corio/detail/promise.hpp>
#include <corio/errors.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

namespace corio {

namespace detail {
// Drops a join_handle's reference: frees or destroys the task when it is the last owner.
// `unretrieved` reads the task's exception if nobody took it; called only once the caller is
// known to be the one that destroys the finished task. Null when the handle's co_await took the
// result or the exception: nothing is left to report.
using unretrieved_reader = const std::exception_ptr* (*)(std::coroutine_handle<>) noexcept;
void release_join(std::coroutine_handle<> h, unretrieved_reader unretrieved) noexcept;
template <class T>
const std::exception_ptr* unretrieved_error_of(std::coroutine_handle<> h) noexcept {
  return std::coroutine_handle<promise<T>>::from_address(h.address()).promise().unretrieved_error();
}
// Throws corio::runtime_error unless the calling task runs on the awaited task's runtime: the
// finishing worker resumes the awaiter directly, which must not happen on a foreign runtime
// (asyncio raises for a Future attached to a different loop, for the same reason).
void check_join_from_same_runtime(task_header* task);
// Frees the memory of a task destroyed unfinished while its handle was alive.
inline task_header* join_header(std::coroutine_handle<> h) noexcept { return header_of(h.address()); }
// s->schedule(h), for headers that cannot include scheduler.hpp.
void schedule_on(scheduler* s, std::coroutine_handle<> h) noexcept;
} // namespace detail

template <class T>
class [[nodiscard]] join_handle {
public:
  using promise_type = detail::promise<T>;
  using value_type = T;

  join_handle() noexcept = default;
  explicit join_handle(std::coroutine_handle<promise_type> h) noexcept
      : bits_(reinterpret_cast<std::uintptr_t>(h.address())) {}
  join_handle(join_handle&& o) noexcept : bits_(std::exchange(o.bits_, 0)) {}
  join_handle& operator=(join_handle&& o) noexcept {
    if (this != &o) {
      reset();
      bits_ = std::exchange(o.bits_, 0);
    }
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  ~join_handle() { reset(); }

  // True while the handle refers to a task (not default-constructed, moved-from or detached).
  // A handle whose result co_await took stays valid: done() and cancelled() still answer.
  bool valid() const noexcept { return bits_ != 0; }

  // True once the task has finished, with a value, an exception, or destroyed by shutdown.
  bool done() const noexcept {
    if (bits_ & consumed_bit) return true;
    if (!frame()) return false;
    auto s = state().load(std::memory_order_acquire);
    return (s & detail::completed) || !(s & detail::frame_live);
  }

  // Lets the task run on without anyone awaiting it. Same as dropping the handle, except that
  // debug mode reports a handle dropped without co_await, cancel() or detach() (a task whose
  // result nobody looks at is often a forgotten co_await).
  void detach() noexcept {
    bits_ |= observed_bit;
    reset();
  }

  // Requests cancellation of the task (asyncio Task.cancel()): it receives corio::cancelled_error
  // at its current or next suspension point, on a worker, once; if it reaches its end first, its
  // result stands. Thread-safe, from anywhere.
  // Returns false if the task has already finished (or the handle is empty).
  bool cancel() noexcept {
    if (!frame()) return false;
    bits_ |= observed_bit;
    return detail::request_cancel(detail::join_header(handle()));
  }

  // True once the task has finished by cancelled_error (or was destroyed by a shutdown).
  bool cancelled() const noexcept {
    if (bits_ & consumed_bit) return (bits_ & ended_cancelled_bit) != 0;
    if (!frame()) return false;
    auto s = state().load(std::memory_order_acquire);
    if (!(s & detail::frame_live)) return true;
    return (s & detail::completed) && handle().promise().cancelled_;
  }

  // True once the task has finished with an exception other than cancelled_error.
  bool failed() const noexcept {
    if (bits_ & consumed_bit) return (bits_ & ended_failed_bit) != 0;
    if (!frame()) return false;
    auto s = state().load(std::memory_order_acquire);
    return (s & detail::completed) && (s & detail::frame_live) &&
           handle().promise().kind_ == detail::promise_base::holds_error && !handle().promise().cancelled_;
  }

  // co_await: the task's value or exception. If the awaiting task is cancelled meanwhile, the
  // cancellation is passed on to this task (asyncio does the same for `await task`), the awaiter
  // still waits for it to finish, then throws cancelled_error; the handle is not consumed, so the
  // result can still be awaited.
  // Take: co_await yields the result (and consumes the handle); otherwise it only waits for the
  // task to finish (until_done).
  template <bool Take>
  struct basic_awaiter : detail::cancel_registration {
    explicit basic_awaiter(join_handle& h, bool pass_on_cancel = true) noexcept : self(h), pass_on_cancel(pass_on_cancel) {}
    join_handle& self;
    bool pass_on_cancel;
    detail::task_header* root = nullptr;
    bool stopped_before = false; // a cancellation was pending: never waited
    bool passed_on = false;      // we were cancelled while waiting and cancelled the task

    bool await_ready() const {
      if (self.bits_ & consumed_bit) {
        if (Take) throw invalid_state_error("corio: a join_handle can be awaited only once");
        return true;
      }
      if (!self.frame()) throw invalid_state_error("corio: co_await on an empty join_handle");
      return self.done();
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> caller) {
      detail::check_join_from_same_runtime(detail::join_header(self.handle()));
      root = detail::cancel_root(caller, *this);
      detail::cancel_lock lock(root);
      if (lock.pending()) {
        stopped_before = true;
        return false;
      }
      self.handle().promise().continuation_ = caller;
      this->caller = caller;
      caller_sched = detail::current_scheduler();
      on_cancel = pass_on_cancel ? &pass_on : &stop_waiting;
      what = "another task (join_handle)";
      // From here on the task may finish and resume the caller, whose frame holds this awaiter:
      // without a root (a caller that is not a corio task) nothing holds it back, so the frame is
      // not touched after this (lock is on the stack).
      auto prev = self.state().fetch_or(detail::awaited, std::memory_order_acq_rel);
      // Finished (or destroyed) before we registered: resume at once.
      if ((prev & detail::completed) || !(prev & detail::frame_live)) return false;
      lock.arm(this);
      return true;
    }
    decltype(auto) await_resume() {
      self.bits_ |= observed_bit;
      detail::task_header* r = std::exchange(root, nullptr); // the destructor has nothing left to do
      detail::disarm_cancel(r, this);
      if (stopped_before || passed_on || gave_up) detail::deliver_cancel(r);
      if constexpr (!Take) return;
      else return self.take_result();
    }
    ~basic_awaiter() { detail::disarm_cancel(root, this); }

  private:
    static void pass_on(detail::cancel_registration* r) noexcept {
      auto* a = static_cast<basic_awaiter*>(r);
      a->passed_on = true;
      detail::request_cancel(detail::join_header(a->self.handle()));
    }
    // wait_detached: stop waiting, leave the task alone (unless it has just finished: then it is
    // resuming us with its result already).
    static void stop_waiting(detail::cancel_registration* r) noexcept {
      auto* a = static_cast<basic_awaiter*>(r);
      auto prev = a->self.state().fetch_and(~detail::awaited, std::memory_order_acq_rel);
      if ((prev & detail::completed) || !(prev & detail::frame_live)) return;
      a->gave_up = true;
      detail::schedule_on(a->caller_sched, a->caller);
    }
    bool gave_up = false;
    scheduler* caller_sched = nullptr;
    std::coroutine_handle<> caller{};
  };
  using awaiter = basic_awaiter<true>;
  // Waits like co_await, except that a cancellation of the waiting task is not passed on: the
  // waiter gives up (cancelled_error) and the task runs on, still owned by this handle (asyncio:
  // awaiting a shield()ed task).
  awaiter wait_detached() noexcept { return awaiter(*this, false); }
  // Waits until the task has finished without taking its result (the handle can be awaited
  // afterwards); a cancellation of the waiter is not passed on (used by corio::wait).
  basic_awaiter<false> until_done() noexcept { return basic_awaiter<false>(*this, false); }

  awaiter operator co_await() & noexcept { return awaiter(*this); }
  awaiter operator co_await() && noexcept { return awaiter(*this); }

protected:
  void mark_observed() noexcept { bits_ |= observed_bit; } // dropping it is deliberate

private:
  // The task's frame address, with flags in its low four bits (frames are 16-byte aligned): one
  // word per handle, as a program that keeps a million of them in a vector notices.
  static constexpr std::uintptr_t observed_bit = 1;        // awaited, cancelled or detached
  static constexpr std::uintptr_t consumed_bit = 2;        // co_await took the result; task freed
  static constexpr std::uintptr_t ended_cancelled_bit = 4; // (consumed) it ended cancelled
  static constexpr std::uintptr_t ended_failed_bit = 8;    // (consumed) it ended with another error
  static constexpr std::uintptr_t flag_bits = 15;
  static_assert(alignof(detail::task_header) > flag_bits, "frames must leave the flag bits free");

  void* frame() const noexcept { return reinterpret_cast<void*>(bits_ & ~flag_bits); }
  std::coroutine_handle<promise_type> handle() const noexcept {
    return std::coroutine_handle<promise_type>::from_address(frame());
  }
  std::atomic<std::uint32_t>& state() const noexcept { return detail::join_header(handle())->state; }

  // The result, taken once the task has finished. The task is freed right here rather than when
  // the handle is dropped: its memory is in cache now, and a million handles dropped later would
  // each fetch it again.
  T take_result() {
    auto h = handle();
    auto& p = h.promise();
    if (!(state().load(std::memory_order_acquire) & detail::frame_live)) {
      release_consumed(ended_cancelled_bit);
      throw cancelled_error("corio: the task was destroyed unfinished by a runtime shutdown");
    }
    if (p.kind_ == detail::promise_base::holds_error) {
      std::exception_ptr e = p.take_error();
      release_consumed(p.cancelled_ ? ended_cancelled_bit : ended_failed_bit);
      std::rethrow_exception(std::move(e));
    }
    // Freed once the value is in the caller's hands, also when moving it out throws (the
    // handle is consumed either way, as a second co_await must not see a moved-from value).
    struct release_on_exit {
      join_handle& self;
      ~release_on_exit() { self.release_consumed(0); }
    } release{*this};
    return p.take();
  }
  void release_consumed(std::uintptr_t ended) noexcept {
    auto h = handle();
    bits_ = observed_bit | consumed_bit | ended;
    detail::release_join(h, nullptr); // the await took the result or the exception: nothing to report
  }

  void reset() noexcept {
    if (frame()) {
      if (!(bits_ & observed_bit) && detail::debug_active()) [[unlikely]]
        detail::report_dropped_handle(detail::join_header(handle()), done());
      detail::release_join(handle(), &detail::unretrieved_error_of<T>);
    }
    bits_ = 0;
  }

  std::uintptr_t bits_ = 0;
};

} // namespace corio
