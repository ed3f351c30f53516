#pragma once
// corio::task_group (asyncio.TaskGroup): structured concurrency. Tasks started in a group never
// outlive it: leaving the group waits for every one of them. The recommended way to spawn.
//
//   co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<> {
//     tg.create_task(serve(client_a));
//     auto h = tg.create_task(fetch(url));     // a join_handle: its result is there afterwards
//     co_await corio::sleep(1s);
//   });                                         // returns once every child has finished
//
// Failure: the first child that fails with anything but cancelled_error cancels its siblings and
// the body (which gets cancelled_error at its next suspension point; the group swallows that);
// once every child has finished the group throws corio::exception_group holding every failure,
// in the order they happened (the body's own exception too, if it threw one). A child that was
// cancelled is not a failure.
// Cancellation: cancelling the task that runs the group cancels the body and every child; the
// group waits for them and rethrows cancelled_error (or an exception_group if children failed).
// A child's join_handle can still be awaited, before or after the group ends; dropping it does
// not detach the child from the group.
//
// The explicit form, for code that cannot be written as one body: create_task() as above, then
// `co_await tg.wait()` exactly once, on every path (an exception between the two must still
// reach the wait: prefer with_task_group). A group destroyed without wait() while children still
// run cancels them and reports the misuse through the unhandled-exception handler.
//
// Threading: create_task must be called from a worker of the runtime (inside a task); children
// run on any worker. One group is meant to be used by one task at a time, as asyncio's is.
#include <corio/awaitable.hpp>
#include <corio/detail/cancel.hpp>
#include <corio/detail/spinlock.hpp>
#include <corio/errors.hpp>
#include <corio/exception_group.hpp>
#include <corio/join_handle.hpp>
#include <corio/scheduler.hpp>
#include <corio/task.hpp>

#include <algorithm>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace corio {

class task_group;
namespace detail {
template <class F, class R>
task<R> run_task_group(F body);

// Shared by the group and its children (a child may finish after a misused group is gone).
class task_group_state {
public:
  // Lock order: this lock, then a task's cancel lock (request_cancel); see stop_waiting for the
  // one place that takes them the other way round, and why the two never meet.
  spinlock mu;
  std::vector<task_header*> live; // children not finished yet (their frames are alive)
  std::vector<std::exception_ptr> errors;
  task_header* parent = nullptr;  // the task that runs the group
  bool parent_cancel_requested = false;
  bool joining = false;           // the parent is in wait(): it is not cancelled for a failure
  bool aborting = false;          // the children were told to stop

  void add_child(task_header* h) {
    std::lock_guard lock(mu);
    live.push_back(h);
    if (aborting) request_cancel(h); // started after the abort: stops at its first step
  }
  void remove_child(task_header* h) noexcept {
    std::lock_guard lock(mu);
    erase_locked(h);
  }
  // A child finished (error: null, or what it failed with; cancellation is not a failure).
  void child_finished(task_header* self, std::exception_ptr error) noexcept {
    std::coroutine_handle<> w;
    scheduler* s = nullptr;
    {
      std::lock_guard lock(mu);
      erase_locked(self);
      if (error && !is_cancellation(error)) {
        errors.push_back(std::move(error));
        abort_locked(true);
      }
      if (live.empty() && waiter) {
        w = std::exchange(waiter, {});
        s = waiter_sched;
      }
    }
    if (w) s->schedule(w);
  }
  // Cancels the children (and, for a failure while the body runs, the body).
  void abort_locked(bool cancel_parent) noexcept {
    if (cancel_parent && !joining && !parent_cancel_requested && parent) {
      parent_cancel_requested = true;
      request_cancel(parent);
    }
    if (aborting) return;
    aborting = true;
    for (task_header* h : live) request_cancel(h);
  }
  void abort() noexcept {
    std::lock_guard lock(mu);
    abort_locked(false);
  }

  // co_await: until no child is left. If `cancellable`, a cancellation of the waiting task ends
  // the wait early (await_resume returns true; the request is taken).
  class wait_awaiter : public cancel_registration {
  public:
    wait_awaiter(task_group_state& st, bool cancellable) noexcept : st_(st), cancellable_(cancellable) {}
    ~wait_awaiter() { disarm_cancel(root_, this); }
    bool await_ready() noexcept {
      std::lock_guard lock(st_.mu);
      return st_.live.empty();
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      root_ = cancellable_ ? cancel_root(h, *this) : nullptr;
      cancel_lock cancel(root_);
      if (cancel.pending()) {
        cancelled_ = true;
        return false;
      }
      // Before publishing h: from then on the frame may be resumed and freed (no root: no lock
      // holds the waiter back).
      on_cancel = &stop_waiting;
      what = "a task group";
      {
        std::lock_guard lock(st_.mu);
        if (st_.live.empty()) return false;
        st_.waiter = h;
        st_.waiter_sched = scheduler::current();
      }
      cancel.arm(this);
      return true;
    }
    bool await_resume() noexcept {
      task_header* r = std::exchange(root_, nullptr);
      disarm_cancel(r, this);
      if (cancelled_) consume_cancel(r);
      return cancelled_;
    }

  private:
    // Under the waiting task's cancel lock; takes the group's lock: the one place the order is
    // cancel lock -> group lock. The group never requests cancellation of its own waiter while it
    // waits (joining is set first), so the two orders never meet on the same pair.
    static void stop_waiting(cancel_registration* r) noexcept {
      auto* a = static_cast<wait_awaiter*>(r);
      std::coroutine_handle<> w;
      scheduler* s = nullptr;
      {
        std::lock_guard lock(a->st_.mu);
        if (!a->st_.waiter) return; // the children finished first
        w = std::exchange(a->st_.waiter, {});
        s = a->st_.waiter_sched;
        a->cancelled_ = true;
      }
      s->schedule(w);
    }
    task_group_state& st_;
    bool cancellable_;
    bool cancelled_ = false;
    task_header* root_ = nullptr;
  };

  std::coroutine_handle<> waiter{};
  scheduler* waiter_sched = nullptr;

private:
  void erase_locked(task_header* h) noexcept {
    auto it = std::find(live.begin(), live.end(), h);
    if (it != live.end()) {
      *it = live.back();
      live.pop_back();
    }
  }
};

// Sets up the child's promise without suspending: its exception is the group's to report.
struct group_child_setup {
  task_header* self = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    h.promise().retrieved_ = true;
    self = h.promise().root();
    return false;
  }
  task_header* await_resume() const noexcept { return self; }
};

template <class A>
task<await_result_t<A&&>> group_child(std::shared_ptr<task_group_state> st, A a) {
  using R = await_result_t<A&&>;
  task_header* self = co_await group_child_setup{};
  std::exception_ptr failure;
  try {
    deliver_if_pending(self); // cancelled before it started: the work never runs
    if constexpr (std::is_void_v<R>) {
      co_await std::move(a);
      st->child_finished(self, nullptr);
      co_return;
    } else {
      decltype(auto) r = co_await std::move(a);
      st->child_finished(self, nullptr);
      co_return static_cast<R>(r);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  st->child_finished(self, failure);
  std::rethrow_exception(failure);
}

} // namespace detail

// What task_group::create_task returns: the child's join_handle, which (unlike a plain one) may
// be ignored without a warning, [[nodiscard]] or debug mode's: the group awaits the child anyway.
template <class T>
class group_handle : public join_handle<T> {
public:
  group_handle(join_handle<T>&& h) noexcept : join_handle<T>(std::move(h)) { this->mark_observed(); }
};

class task_group {
public:
  task_group() : st_(std::make_shared<detail::task_group_state>()) {}
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;
  ~task_group();

  // Starts `a` (a task or any awaitable) as a child of the group; returns its join_handle.
  // Throws corio::runtime_error outside a runtime, invalid_state_error once the group is done.
  template <awaitable A>
  group_handle<await_result_t<std::remove_cvref_t<A>&&>> create_task(A&& a) {
    using R = await_result_t<std::remove_cvref_t<A>&&>;
    scheduler* s = scheduler::current();
    if (!s) throw runtime_error("corio: task_group::create_task() must be called inside a corio runtime");
    if (done_) throw invalid_state_error("corio: task_group::create_task() after the group finished");
    // group_child delivers an early cancellation itself, so that the group hears of it.
    auto child = detail::deliver_at_first_suspension(detail::group_child<std::remove_cvref_t<A>>(st_, std::forward<A>(a)));
    auto h = child.release();
    detail::task_header* header = detail::header_of(h.address());
    st_->add_child(header);
    try {
      return group_handle<R>(s->spawn(task<R>(h)));
    } catch (...) {
      st_->remove_child(header);
      throw;
    }
  }

  // Cancels every child still running (asyncio has no such method; a child's failure does this).
  void cancel() noexcept { st_->abort(); }

  // Waits for every child; then throws exception_group if any failed (see the top of the file).
  // Call exactly once. `body_error`: what the code using the group threw (with_task_group).
  task<void> wait(std::exception_ptr body_error = nullptr);

  // Children still running.
  std::size_t size() const {
    std::lock_guard lock(st_->mu);
    return st_->live.size();
  }

private:
  template <class F, class R>
  friend task<R> detail::run_task_group(F body);

  std::shared_ptr<detail::task_group_state> st_;
  bool done_ = false;
};

namespace detail {
template <class F, class R>
task<R> run_task_group(F body) {
  task_group tg;
  // The body runs in the caller's task: a child's failure cancels it there.
  tg.st_->parent = co_await current_root_awaiter{};
  std::optional<non_void_t<R>> result;
  std::exception_ptr body_error;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await body(tg);
      result.emplace();
    } else {
      result.emplace(co_await body(tg));
    }
  } catch (...) {
    body_error = std::current_exception();
  }
  co_await tg.wait(std::move(body_error));
  if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}
} // namespace detail

// Runs body(group), then leaves the group: waits for every child and reports as above. Returns
// the body's result. body: a callable taking task_group& and returning a task (or awaitable).
template <class F>
auto with_task_group(F&& body) {
  using R = await_result_t<std::invoke_result_t<F&, task_group&>>;
  return detail::run_task_group<std::decay_t<F>, R>(std::forward<F>(body));
}

} // namespace corio
