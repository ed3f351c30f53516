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
// Failures: gather waits for every branch, then rethrows the exception of the branch that failed
// first (in time). Exceptions of other branches are not lost: each is passed to the unhandled
// exception handler. gather_settled never throws for a branch; it returns each one's outcome.
// Waiting for every branch (rather than returning at the first failure, as asyncio does) keeps
// branches from outliving a caller frame they may point into.
//
// Threading: the caller resumes on the worker that finished the last branch. Must be awaited
// inside a corio runtime (throws corio::runtime_error otherwise).
#include <corio/awaitable.hpp>
#include <corio/errors.hpp>
#include <corio/outcome.hpp>
#include <corio/scheduler.hpp>
#include <corio/task.hpp>
#include <corio/unhandled_exception.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace corio {

namespace detail {

inline constexpr std::size_t no_failure = static_cast<std::size_t>(-1);

// Counts branches down; the last one to arrive (the gather itself counts as one, when it
// suspends) wakes the gathering coroutine.
struct gather_state {
  explicit gather_state(std::size_t branches, scheduler& s) : remaining(branches + 1), sched(&s) {}

  void arrive() noexcept {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) sched->schedule(waiter);
  }
  void failed(std::size_t index) noexcept {
    std::size_t expected = no_failure;
    first_failure.compare_exchange_strong(expected, index, std::memory_order_acq_rel);
  }

  struct wait_all {
    gather_state& st;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
      st.waiter = h;
      return st.remaining.fetch_sub(1, std::memory_order_acq_rel) != 1;
    }
    void await_resume() const noexcept {}
  };

  std::atomic<std::size_t> remaining;
  std::atomic<std::size_t> first_failure{no_failure};
  std::coroutine_handle<> waiter{};
  scheduler* sched;
};

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
    st.failed(index);
  }
  st.arrive(); // last statement: once it returns, the gathering frame may already be gone
}

inline scheduler& gather_scheduler() {
  scheduler* s = scheduler::current();
  if (!s) throw runtime_error("corio: gather() must be awaited inside a corio runtime");
  return *s;
}

inline void report_other_failures(std::size_t first, std::size_t index, const std::exception_ptr& e) {
  if (e && index != first) report_unhandled_exception(e, "gather: exception in a branch after the first failure");
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
  gather_state st(n, sched);
  std::tuple<gather_slot<stored_result_t<S>>...> slots;
  std::exception_ptr spawn_error;
  std::size_t started = 0;
  try {
    // Spawned last to first: a worker runs its newest task first, so on one worker the branches
    // start in argument order (as asyncio's do), while idle workers steal from the other end.
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((spawn_detached(sched, gather_branch<std::tuple_element_t<n - 1 - I, std::tuple<S...>>>(
                                  std::get<n - 1 - I>(args), std::get<n - 1 - I>(slots), st, n - 1 - I)),
        ++started),
       ...);
    }(std::index_sequence_for<S...>{});
  } catch (...) {
    spawn_error = std::current_exception();
    st.remaining.fetch_sub(n - started, std::memory_order_acq_rel);
  }
  co_await gather_state::wait_all{st};
  if (spawn_error) std::rethrow_exception(spawn_error);

  if constexpr (Settled) {
    co_return std::apply([](auto&... s) { return gather_tuple_t<Settled, S...>(s.take_outcome()...); }, slots);
  } else {
    std::size_t first = st.first_failure.load(std::memory_order_acquire);
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
  gather_state st(n, sched);
  std::vector<gather_slot<R>> slots(n);
  std::exception_ptr spawn_error;
  std::size_t started = 0;
  try {
    // Last to first, so a worker running newest-first starts them in order (see above).
    for (; started < n; ++started) {
      std::size_t i = n - 1 - started;
      spawn_detached(sched, gather_branch<E>(items[i], slots[i], st, i));
    }
  } catch (...) {
    spawn_error = std::current_exception();
    st.remaining.fetch_sub(n - started, std::memory_order_acq_rel);
  }
  co_await gather_state::wait_all{st};
  if (spawn_error) std::rethrow_exception(spawn_error);

  gather_vector_t<Settled, E> out;
  out.reserve(n);
  if constexpr (Settled) {
    for (auto& s : slots) out.push_back(s.take_outcome());
  } else {
    std::size_t first = st.first_failure.load(std::memory_order_acquire);
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
