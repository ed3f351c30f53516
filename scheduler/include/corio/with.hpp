#pragma once
// corio::with: asyncio's `async with` for resources whose teardown is asynchronous.
//
// C++ destructors cannot co_await, so a resource with an async close() cannot clean up in its
// destructor. with() runs a body against the resource and then awaits the teardown on every path
// out of the body: a normal return and an exception (and cancellation, once the body can be
// cancelled: the teardown is then still awaited before the cancellation surfaces).
//
//   struct db {                                   // any type with one of:
//     corio::task<void> close();                  //   close()              (no info), or
//     corio::task<bool> aexit(std::exception_ptr);//   aexit(exception)     (asyncio's __aexit__;
//   };                                            //    returning true swallows the exception)
//   corio::task<db> connect(std::string dsn);
//
//   auto rows = co_await corio::with(connect(dsn), [](db& conn) -> corio::task<rows_t> {
//     co_return co_await conn.query("SELECT ...");
//   });
//
// The first argument is anything awaitable that yields the resource (asyncio's __aenter__); the
// body receives it by reference and returns a task. with() returns the body's value, or rethrows
// its exception after the teardown (unless aexit swallowed it). If the teardown itself throws,
// that exception wins (the body's, if any, is reported through the unhandled-exception handler).
// For locks use the scoped forms instead: `auto g = co_await m.scoped_lock();`.
#include <corio/awaitable.hpp>
#include <corio/task.hpp>
#include <corio/unhandled_exception.hpp>

#include <concepts>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace corio {

namespace detail {

template <class R>
concept has_aexit = requires(R& r, std::exception_ptr e) {
  { r.aexit(e) } -> awaitable;
};
template <class R>
concept has_async_close = requires(R& r) {
  { r.close() } -> awaitable;
};

// Awaits r's teardown; returns true if it swallowed the exception.
template <class R>
task<bool> teardown(R& r, std::exception_ptr error) {
  if constexpr (has_aexit<R>) {
    using result = await_result_t<decltype(r.aexit(error))>;
    if constexpr (std::is_convertible_v<result, bool>)
      co_return static_cast<bool>(co_await r.aexit(error));
    else {
      co_await r.aexit(error);
      co_return false;
    }
  } else {
    co_await r.close();
    co_return false;
  }
}

} // namespace detail

template <awaitable Acquire, class Body>
  requires(detail::has_aexit<std::remove_cvref_t<await_result_t<Acquire>>> ||
           detail::has_async_close<std::remove_cvref_t<await_result_t<Acquire>>>)
auto with(Acquire acquire, Body body)
    -> task<await_result_t<std::invoke_result_t<Body&, std::remove_cvref_t<await_result_t<Acquire>>&>>> {
  using resource_t = std::remove_cvref_t<await_result_t<Acquire>>;
  using result_t = await_result_t<std::invoke_result_t<Body&, resource_t&>>;
  resource_t resource = co_await std::move(acquire);
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<result_t>, char, result_t>> value;
  try {
    if constexpr (std::is_void_v<result_t>) {
      co_await body(resource);
      value.emplace();
    } else {
      value.emplace(co_await body(resource));
    }
  } catch (...) {
    error = std::current_exception();
  }
  // (co_await is not allowed inside a handler: the teardown runs here, on every path.)
  bool swallowed = false;
  try {
    swallowed = co_await detail::teardown(resource, error);
  } catch (...) {
    if (error) report_unhandled_exception(error, "with(): exception of the body, superseded by one from the teardown");
    throw;
  }
  if (error && !swallowed) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<result_t>) {
    if (!value) throw invalid_state_error("corio: with(): the teardown swallowed the exception; there is no value");
    co_return std::move(*value);
  }
}

} // namespace corio
