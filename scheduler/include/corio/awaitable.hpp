#pragma once
// The one contract every corio awaitable meets, so gather, create_task and friends accept any of
// them (tasks, join handles, sleeps, stream operations, lock waits, offloads, user types).
//
//   template <corio::awaitable A>
//   corio::task<corio::await_result_t<A>> twice(A a);  // works for anything co_await-able
//
// `awaitable` is satisfied by a type with member or free operator co_await, or by an awaiter
// itself (await_ready / await_suspend / await_resume).
#include <concepts>
#include <coroutine>
#include <type_traits>
#include <utility>

namespace corio {

namespace detail {

template <class A>
concept has_member_co_await = requires(A&& a) { std::forward<A>(a).operator co_await(); };

template <class A>
concept has_free_co_await = requires(A&& a) { operator co_await(std::forward<A>(a)); };

template <class A>
concept is_awaiter = requires(A& a) {
  { a.await_ready() } -> std::convertible_to<bool>;
  a.await_resume();
};

template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (has_member_co_await<A>)
    return std::forward<A>(a).operator co_await();
  else if constexpr (has_free_co_await<A>)
    return operator co_await(std::forward<A>(a));
  else
    return std::forward<A>(a);
}

} // namespace detail

template <class A>
concept awaitable = requires(A&& a) {
  { detail::get_awaiter(std::forward<A>(a)) };
} && detail::is_awaiter<std::remove_reference_t<decltype(detail::get_awaiter(std::declval<A>()))>>;

// The type `co_await std::declval<A>()` produces.
template <awaitable A>
using await_result_t = decltype(std::declval<std::remove_reference_t<decltype(detail::get_awaiter(std::declval<A>()))>&>().await_resume());

// What stands in for a void result in tuples and vectors (asyncio's None).
struct unit {
  friend bool operator==(unit, unit) noexcept { return true; }
};

template <class T>
using non_void_t = std::conditional_t<std::is_void_v<T>, unit, T>;

} // namespace corio
