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
// Threading: the awaiter resumes on the worker that finished the task, which hands over
// directly. Await a handle only from a task of the same runtime (from another one it throws
// corio::runtime_error; from a plain thread use runtime::block_on). Awaiting twice or awaiting
// an empty handle throws corio::invalid_state_error. If the task was destroyed unfinished by a
// runtime shutdown, awaiting it throws corio::cancelled_error.
#include <corio/detail/promise.hpp>
#include <corio/errors.hpp>

#include <atomic>
#include <coroutine>
#include <utility>

namespace corio {

namespace detail {
// Drops a join_handle's reference: frees or destroys the task when it is the last owner.
// `unretrieved` reads the task's exception if nobody took it; called only once the caller is
// known to be the one that destroys the finished task.
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
} // namespace detail

template <class T>
class [[nodiscard]] join_handle {
public:
  using promise_type = detail::promise<T>;
  using value_type = T;

  join_handle() noexcept = default;
  explicit join_handle(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  join_handle(join_handle&& o) noexcept : h_(std::exchange(o.h_, {})), consumed_(o.consumed_) {}
  join_handle& operator=(join_handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
      consumed_ = o.consumed_;
    }
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  ~join_handle() { reset(); }

  // True while the handle refers to a task (not default-constructed, moved-from or detached).
  bool valid() const noexcept { return static_cast<bool>(h_); }

  // True once the task has finished, with a value, an exception, or destroyed by shutdown.
  bool done() const noexcept {
    if (!h_) return false;
    auto s = state().load(std::memory_order_acquire);
    return (s & detail::completed) || !(s & detail::frame_live);
  }

  // Lets the task run on without anyone awaiting it (same as dropping the handle).
  void detach() noexcept { reset(); }

  struct awaiter {
    join_handle& self;
    bool await_ready() const {
      if (!self.h_) throw invalid_state_error("corio: co_await on an empty join_handle");
      if (self.consumed_) throw invalid_state_error("corio: a join_handle can be awaited only once");
      return self.done();
    }
    bool await_suspend(std::coroutine_handle<> caller) {
      detail::check_join_from_same_runtime(detail::join_header(self.h_));
      self.h_.promise().continuation_ = caller;
      auto prev = self.state().fetch_or(detail::awaited, std::memory_order_acq_rel);
      // Finished (or destroyed) before we registered: resume at once.
      return !(prev & detail::completed) && (prev & detail::frame_live);
    }
    decltype(auto) await_resume() {
      self.consumed_ = true;
      if (!(self.state().load(std::memory_order_acquire) & detail::frame_live))
        throw cancelled_error("corio: the task was destroyed unfinished by a runtime shutdown");
      return self.h_.promise().take();
    }
  };
  awaiter operator co_await() & noexcept { return awaiter{*this}; }
  awaiter operator co_await() && noexcept { return awaiter{*this}; }

private:
  std::atomic<std::uint32_t>& state() const noexcept { return detail::join_header(h_)->state; }
  void reset() noexcept {
    if (h_) {
      detail::release_join(std::exchange(h_, {}), &detail::unretrieved_error_of<T>);
    }
  }

  std::coroutine_handle<promise_type> h_{};
  bool consumed_ = false;
};

} // namespace corio
