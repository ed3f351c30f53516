#pragma once
// corio::gather (asyncio.gather): run several awaitables concurrently and collect their results
// in argument order.
//
//   auto [user, orders] = co_await corio::gather(fetch_user(id), fetch_orders(id));
//   std::vector<int> all = co_await corio::gather(std::move(tasks));       // a range
//   auto settled = co_await corio::gather_settled(a(), b());  // outcome<T> per branch
//
// Each branch runs as its own spawned task, so branches spread over the workers. Results come
// back as a std::tuple (variadic) or std::vector (range); a void result becomes corio::unit.
// Arguments passed as rvalues are moved into the gather; lvalues are used in place and must live
// until it finishes. gather(range) takes the range's elements over (moves them out).
//
// Failures: at the first failure (in time) gather cancels the branches still running, waits for
// them, and rethrows that first exception. Other branches' exceptions are not lost: each is passed
// to the unhandled exception handler (their cancelled_error is not). gather_settled never throws
// for a branch and cancels nothing; it returns each one's outcome.
// Cancellation: cancelling the gathering task cancels every branch still running; gather waits
// for them, then throws cancelled_error. gather never returns while a branch still runs (they
// may point into the caller's frame).
//
// Threading: the caller resumes on the worker that finished the last branch. Must be awaited
// inside a corio runtime (throws corio::runtime_error otherwise).
#include <corio/awaitable.hpp>
#include <corio/detail/cancel.hpp>
#include <corio/detail/spinlock.hpp>
#include <corio/errors.hpp>
#include <corio/outcome.hpp>
#include <corio/scheduler.hpp>
#include <corio/task.hpp>
#include <corio/unhandled_exception.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace corio {

namespace detail {

inline constexpr std::size_t no_failure = static_cast<std::size_t>(-1);

// What the branches report to the gathering coroutine: how many are still running, which one
// failed first. The gatherer waits until all have finished or (stop_on_failure) one failed.
struct gather_state {
  gather_state(std::size_t branches, scheduler& s, bool stop) : remaining(branches), sched(&s), stop_on_failure(stop) {}

  void arrive(std::size_t index, bool failed) noexcept {
    std::coroutine_handle<> w;
    {
      std::lock_guard lock(mu);
      --remaining;
      ++arrived;
      if (failed && first_failure == no_failure) first_failure = index;
      if (waiter && satisfied_locked(waiting_for_all)) w = std::exchange(waiter, {});
    }
    if (w) sched->schedule(w); // after unlocking: the gatherer may resume and destroy *this
  }

  bool satisfied_locked(bool all) const noexcept {
    return remaining == 0 || (!all && ((stop_on_failure && first_failure != no_failure) || arrived >= stop_after));
  }

  // co_await: resumes when the branches are done (see above). If `cancellable`, a cancellation
  // of the gathering task ends the wait early; await_resume then returns true (the request is
  // taken: the gatherer cancels the branches, waits for them and throws cancelled_error).
  class wait_awaiter : public cancel_registration {
  public:
    wait_awaiter(gather_state& st, bool all, bool cancellable) noexcept : st_(st), all_(all), cancellable_(cancellable) {}
    ~wait_awaiter() { disarm_cancel(root_, this); }
    bool await_ready() noexcept {
      std::lock_guard lock(st_.mu);
      return st_.satisfied_locked(all_);
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
      what = "gather";
      {
        std::lock_guard lock(st_.mu);
        if (st_.satisfied_locked(all_)) return false;
        st_.waiting_for_all = all_;
        st_.waiter = h;
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
    static void stop_waiting(cancel_registration* r) noexcept {
      auto* a = static_cast<wait_awaiter*>(r);
      std::coroutine_handle<> w;
      {
        std::lock_guard lock(a->st_.mu);
        if (!a->st_.waiter) return; // the branches finished first
        w = std::exchange(a->st_.waiter, {});
        a->cancelled_ = true;
      }
      a->st_.sched->schedule(w);
    }
    gather_state& st_;
    bool all_;
    bool cancellable_;
    bool cancelled_ = false;
    task_header* root_ = nullptr;
  };
  wait_awaiter wait(bool all, bool cancellable) noexcept { return wait_awaiter(*this, all, cancellable); }

  spinlock mu;
  std::size_t remaining;
  std::size_t arrived = 0;
  std::size_t stop_after = static_cast<std::size_t>(-1); // corio::wait(first_completed): 1
  std::size_t first_failure = no_failure;
  std::coroutine_handle<> waiter{};
  bool waiting_for_all = true;
  scheduler* sched;
  const bool stop_on_failure;
};

// Runs the gather's wait: until every branch is done; or, at the first failure (unless
// settled) or when the gathering task is cancelled, cancels the branches still running and waits
// for them. Returns true if the gathering task was cancelled (it throws cancelled_error).
template <class Handles>
task<bool> gather_wait(gather_state& st, Handles& handles) {
  bool cancelled = co_await st.wait(false, true);
  if (cancelled || st.first_failure != no_failure) {
    for (auto& h : handles) h.cancel();
    co_await st.wait(true, false); // branches may point into the caller: always wait for them
  }
  for (auto& h : handles) h.detach(); // their results are in the slots: not a forgotten task
  co_return cancelled;
}

// One branch's result. R may be void or a reference.
template <class R>
struct gather_slot {
  using value_type = non_void_t<R>;
  using stored = std::conditional_t<std::is_reference_v<R>, std::reference_wrapper<std::remove_reference_t<R>>, value_type>;
  std::optional<stored> value;
  std::exception_ptr error;

  value_type take() {
    if constexpr (std::is_reference_v<R>)
      return value->get();
    else
      return std::move(*value);
  }
  outcome<value_type> take_outcome() {
    if (error) return outcome<value_type>(error);
    return outcome<value_type>(std::in_place, take());
  }
};

// S is how the gather stores the awaitable: a value (await it as an rvalue) or an lvalue ref.
template <class S>
decltype(auto) forward_stored(std::remove_reference_t<S>& s) noexcept {
  if constexpr (std::is_lvalue_reference_v<S>)
    return s;
  else
    return std::move(s);
}

// Spawned with deliver_at_first_suspension: even a branch cancelled before it starts runs this
// body, so it always arrives.
template <class S, class R>
task<void> gather_branch(std::remove_reference_t<S>& aw, gather_slot<R>& slot, gather_state& st, std::size_t index) {
  try {
    if constexpr (std::is_void_v<R>) {
      co_await forward_stored<S>(aw);
      slot.value.emplace();
    } else if constexpr (std::is_reference_v<R>) {
      slot.value.emplace(co_await forward_stored<S>(aw));
    } else {
      slot.value.emplace(co_await forward_stored<S>(aw));
    }
  } catch (...) {
    slot.error = std::current_exception();
  }
  st.arrive(index, slot.error != nullptr); // last: once it returns, the gathering frame may be gone
}

inline scheduler& gather_scheduler() {
  scheduler* s = scheduler::current();
  if (!s) throw runtime_error("corio: gather() must be awaited inside a corio runtime");
  return *s;
}

// A branch's exception other than the one gather rethrows: reported, unless it is the
// cancellation gather itself caused after the first failure.
inline void report_other_failures(std::size_t first, std::size_t index, const std::exception_ptr& e) {
  if (e && index != first && !is_cancellation(e))
    report_unhandled_exception(e, "gather: exception in a branch after the first failure");
}

template <class S>
using stored_result_t = await_result_t<std::conditional_t<std::is_lvalue_reference_v<S>, S, S&&>>;

template <bool Settled, class... S>
using gather_tuple_t = std::conditional_t<Settled, std::tuple<outcome<non_void_t<stored_result_t<S>>>...>,
                                          std::tuple<non_void_t<stored_result_t<S>>...>>;

template <bool Settled, class... S>
task<gather_tuple_t<Settled, S...>> gather_tuple(std::tuple<S...> args) {
  scheduler& sched = gather_scheduler();
  constexpr std::size_t n = sizeof...(S);
  gather_state st(n, sched, !Settled);
  std::tuple<gather_slot<stored_result_t<S>>...> slots;
  std::array<join_handle<void>, n> handles;
  std::exception_ptr spawn_error;
  std::size_t started = 0;
  try {
    // Spawned last to first: a worker runs its newest task first, so on one worker the branches
    // start in argument order (as asyncio's do), while idle workers steal from the other end.
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((handles[n - 1 - I] = sched.spawn(deliver_at_first_suspension(gather_branch<std::tuple_element_t<n - 1 - I, std::tuple<S...>>>(
            std::get<n - 1 - I>(args), std::get<n - 1 - I>(slots), st, n - 1 - I))),
        ++started),
       ...);
    }(std::index_sequence_for<S...>{});
  } catch (...) {
    spawn_error = std::current_exception();
    std::lock_guard lock(st.mu);
    st.remaining -= n - started;
  }
  if (co_await gather_wait(st, handles)) throw cancelled_error();
  if (spawn_error) std::rethrow_exception(spawn_error);

  if constexpr (Settled) {
    co_return std::apply([](auto&... s) { return gather_tuple_t<Settled, S...>(s.take_outcome()...); }, slots);
  } else {
    std::size_t first = st.first_failure;
    if (first != no_failure) {
      std::exception_ptr first_error;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((I == first ? void(first_error = std::get<I>(slots).error)
                     : report_other_failures(first, I, std::get<I>(slots).error)),
         ...);
      }(std::index_sequence_for<S...>{});
      std::rethrow_exception(first_error);
    }
    co_return std::apply([](auto&... s) { return gather_tuple_t<Settled, S...>(s.take()...); }, slots);
  }
}

template <bool Settled, class E>
using gather_vector_t = std::conditional_t<Settled, std::vector<outcome<non_void_t<await_result_t<E&&>>>>,
                                           std::vector<non_void_t<await_result_t<E&&>>>>;

template <bool Settled, class E>
task<gather_vector_t<Settled, E>> gather_vector(std::vector<E> items) {
  using R = await_result_t<E&&>;
  scheduler& sched = gather_scheduler();
  const std::size_t n = items.size();
  gather_state st(n, sched, !Settled);
  std::vector<gather_slot<R>> slots(n);
  std::vector<join_handle<void>> handles(n);
  std::exception_ptr spawn_error;
  std::size_t started = 0;
  try {
    // Last to first, so a worker running newest-first starts them in order (see above).
    for (; started < n; ++started) {
      std::size_t i = n - 1 - started;
      handles[i] = sched.spawn(deliver_at_first_suspension(gather_branch<E>(items[i], slots[i], st, i)));
    }
  } catch (...) {
    spawn_error = std::current_exception();
    std::lock_guard lock(st.mu);
    st.remaining -= n - started;
  }
  if (co_await gather_wait(st, handles)) throw cancelled_error();
  if (spawn_error) std::rethrow_exception(spawn_error);

  gather_vector_t<Settled, E> out;
  out.reserve(n);
  if constexpr (Settled) {
    for (auto& s : slots) out.push_back(s.take_outcome());
  } else {
    std::size_t first = st.first_failure;
    if (first != no_failure) {
      for (std::size_t i = 0; i < n; ++i) report_other_failures(first, i, slots[i].error);
      std::rethrow_exception(slots[first].error);
    }
    for (auto& s : slots) out.push_back(s.take());
  }
  co_return out;
}

template <class A>
using gather_stored_t = std::conditional_t<std::is_lvalue_reference_v<A>, A, std::remove_cvref_t<A>>;

template <class R>
concept awaitable_range = std::ranges::input_range<R> && awaitable<std::ranges::range_value_t<R>&&>;

template <class R>
auto take_elements(R&& range) {
  std::vector<std::ranges::range_value_t<R>> items;
  if constexpr (std::ranges::sized_range<R>) items.reserve(std::ranges::size(range));
  for (auto&& x : range) items.push_back(std::move(x));
  return items;
}

} // namespace detail

template <awaitable... A>
auto gather(A&&... as) {
  return detail::gather_tuple<false, detail::gather_stored_t<A>...>(
      std::tuple<detail::gather_stored_t<A>...>(std::forward<A>(as)...));
}

template <awaitable... A>
auto gather_settled(A&&... as) {
  return detail::gather_tuple<true, detail::gather_stored_t<A>...>(
      std::tuple<detail::gather_stored_t<A>...>(std::forward<A>(as)...));
}

template <detail::awaitable_range R>
  requires(!awaitable<R>)
auto gather(R&& range) {
  using E = std::ranges::range_value_t<R>;
  return detail::gather_vector<false, E>(detail::take_elements(std::forward<R>(range)));
}

template <detail::awaitable_range R>
  requires(!awaitable<R>)
auto gather_settled(R&& range) {
  using E = std::ranges::range_value_t<R>;
  return detail::gather_vector<true, E>(detail::take_elements(std::forward<R>(range)));
}

} // namespace corio
