#pragma once
// corio::wait and corio::as_completed (asyncio.wait / asyncio.as_completed): watch several
// running tasks.
//
//   std::vector<corio::join_handle<int>> hs = ...;          // from create_task
//   auto [done, pending] = co_await corio::wait(hs, corio::return_when::first_completed);
//   for (std::size_t i : done) use(co_await hs[i]);         // indices into hs
//
//   corio::as_completed<int> results(std::move(hs));         // takes the handles over
//   while (!results.empty()) {
//     int v = co_await results.next();                       // in the order they finish
//   }
//
// wait() does not consume anything: it returns when the condition holds (first_completed: one
// has finished; first_exception: one has failed with anything but cancelled_error, or all have
// finished; all_completed: all have), with the indices of the finished and of the still running
// handles; the handles can then be awaited for their results. It cancels nothing. The vector
// must not change while wait() runs. For a time limit wrap it: wait_for(wait(hs), 5s).
// as_completed's next() yields each task's result (or rethrows its exception) as it finishes;
// last_index() says which handle that was. Destroying it early leaves the remaining tasks
// running, detached (as asyncio does).
// Cancellation: cancelling the waiting task makes wait()/next() throw cancelled_error; the
// watched tasks are not cancelled (cancel them through their handles if you mean to).
#include <corio/detail/cancel.hpp>
#include <corio/errors.hpp>
#include <corio/gather.hpp>
#include <corio/join_handle.hpp>
#include <corio/outcome.hpp>
#include <corio/queue.hpp>
#include <corio/scheduler.hpp>
#include <corio/task.hpp>

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace corio {

enum class return_when { first_completed, first_exception, all_completed };

struct wait_result {
  std::vector<std::size_t> done;    // indices of the handles that have finished
  std::vector<std::size_t> pending; // indices of those still running
};

namespace detail {

template <class T>
task<void> watch_until_done(join_handle<T>& h, gather_state& st, std::size_t index) {
  bool failed = false;
  try {
    co_await h.until_done();
    failed = h.failed();
  } catch (const cancelled_error&) {
    // wait() is over: it stopped watching
  }
  st.arrive(index, failed);
}

} // namespace detail

template <class T>
task<wait_result> wait(std::vector<join_handle<T>>& handles, return_when when = return_when::all_completed) {
  scheduler* s = scheduler::current();
  if (!s) throw runtime_error("corio: wait() must be awaited inside a corio runtime");
  for (auto& h : handles)
    if (!h.valid()) throw invalid_state_error("corio: wait() on an empty join_handle");
  std::vector<std::size_t> watched;
  bool satisfied = handles.empty();
  for (std::size_t i = 0; i < handles.size(); ++i) {
    if (!handles[i].done())
      watched.push_back(i);
    else if (when == return_when::first_completed || (when == return_when::first_exception && handles[i].failed()))
      satisfied = true;
  }
  if (!satisfied && !watched.empty()) {
    detail::gather_state st(watched.size(), *s, when == return_when::first_exception);
    if (when == return_when::first_completed) st.stop_after = 1;
    std::vector<join_handle<void>> watchers;
    watchers.reserve(watched.size());
    bool cancelled = false;
    try {
      for (std::size_t i : watched)
        watchers.push_back(s->spawn(detail::deliver_at_first_suspension(detail::watch_until_done(handles[i], st, i))));
    } catch (...) {
      std::lock_guard lock(st.mu);
      st.remaining -= watched.size() - watchers.size();
      cancelled = true; // cannot watch them all: stop (and rethrow below)
    }
    if (!cancelled) cancelled = co_await st.wait(false, true);
    for (auto& w : watchers) w.cancel();
    co_await st.wait(true, false); // watchers refer to `handles` and `st`: wait for all of them
    if (cancelled) throw cancelled_error();
  }
  wait_result r;
  for (std::size_t i = 0; i < handles.size(); ++i) (handles[i].done() ? r.done : r.pending).push_back(i);
  co_return r;
}

template <class T>
class as_completed {
  using value_t = non_void_t<T>;
  struct finished {
    std::size_t index;
    outcome<value_t> result;
  };
  // Shared with the watchers, which outlive this object if it is dropped early.
  struct shared {
    corio::queue<finished> ready;
  };

public:
  explicit as_completed(std::vector<join_handle<T>> handles) : st_(std::make_shared<shared>()), left_(handles.size()) {
    scheduler* s = scheduler::current();
    if (!s) throw runtime_error("corio: as_completed must be created inside a corio runtime");
    for (std::size_t i = 0; i < handles.size(); ++i) {
      if (!handles[i].valid()) throw invalid_state_error("corio: as_completed over an empty join_handle");
    }
    watchers_.reserve(handles.size());
    for (std::size_t i = 0; i < handles.size(); ++i)
      watchers_.push_back(s->spawn(detail::deliver_at_first_suspension(watch(st_, std::move(handles[i]), i))));
  }
  as_completed(const as_completed&) = delete;
  as_completed& operator=(const as_completed&) = delete;
  ~as_completed() {
    for (auto& w : watchers_) w.cancel(); // they stop watching; the tasks run on, detached
  }

  bool empty() const noexcept { return left_ == 0; }
  std::size_t size() const noexcept { return left_; }
  std::size_t last_index() const noexcept { return last_; }

  // The next result to arrive (its exception rethrown). Throws invalid_state_error when empty.
  task<T> next() {
    if (left_ == 0) throw invalid_state_error("corio: as_completed::next() with nothing left");
    finished f = co_await st_->ready.get();
    --left_;
    last_ = f.index;
    if constexpr (std::is_void_v<T>)
      f.result.value();
    else
      co_return std::move(f.result.value());
  }

private:
  static task<void> watch(std::shared_ptr<shared> st, join_handle<T> h, std::size_t index) {
    outcome<value_t> r = co_await capture(h);
    st->ready.put_nowait(finished{index, std::move(r)});
  }
  static task<outcome<value_t>> capture(join_handle<T>& h) {
    try {
      if constexpr (std::is_void_v<T>) {
        co_await h.wait_detached();
        co_return outcome<value_t>(std::in_place, unit{});
      } else {
        co_return outcome<value_t>(std::in_place, co_await h.wait_detached());
      }
    } catch (...) {
      co_return outcome<value_t>(std::current_exception());
    }
  }

  std::shared_ptr<shared> st_;
  std::vector<join_handle<void>> watchers_;
  std::size_t left_;
  std::size_t last_ = static_cast<std::size_t>(-1);
};

} // namespace corio
