#pragma once
// corio::use_task: the Asio completion token that makes any Asio asynchronous operation
// awaitable from a corio task — sockets, timers, resolvers, signal sets, third-party Asio code.
//
//   asio::steady_timer t(rt.io_context(), 50ms);
//   co_await t.async_wait(corio::use_task);
//   std::size_t n = co_await sock.async_read_some(asio::buffer(buf), corio::use_task);
//   auto endpoints = co_await resolver.async_resolve("example.com", "80", corio::use_task);
//
// The operation starts when the result is awaited (not when the function is called), on the
// awaiting worker. Its completion handler runs wherever Asio runs it (the I/O thread for objects
// on the runtime's io_context) and only hands the coroutine back to the scheduler: the caller
// resumes on a worker. An error_code argument that is set is thrown as corio::io_error carrying
// it; an exception_ptr argument is rethrown. The value is the handler's remaining argument (a
// tuple if there are several, nothing if none). Must be awaited inside a corio runtime.
#include <corio/detail/io_resume.hpp>
#include <corio/errors.hpp>
#include <corio/io_errors.hpp>
#include <corio/scheduler.hpp>

#include <asio/async_result.hpp>
#include <asio/error.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace corio {

struct use_task_t {
  constexpr use_task_t() noexcept = default;
};
inline constexpr use_task_t use_task{};

namespace detail {

// What the handler arguments turn into for the awaiter.
template <class... R>
struct io_result_traits {
  using stored = std::tuple<std::decay_t<R>...>;
  static void check(const stored&) {}
  static auto value(stored&& s) {
    if constexpr (sizeof...(R) == 0)
      return;
    else if constexpr (sizeof...(R) == 1)
      return std::move(std::get<0>(s));
    else
      return std::move(s);
  }
};

template <class... R>
struct io_result_traits<std::error_code, R...> {
  using stored = std::tuple<std::error_code, std::decay_t<R>...>;
  static void check(const stored& s) {
    if (std::get<0>(s)) throw io_error(std::get<0>(s));
  }
  static auto value(stored&& s) {
    if constexpr (sizeof...(R) == 0)
      return;
    else if constexpr (sizeof...(R) == 1)
      return std::move(std::get<1>(s));
    else
      return std::apply([](auto&&, auto&&... rest) { return std::tuple<std::decay_t<R>...>(std::move(rest)...); },
                        std::move(s));
  }
};

template <class... R>
struct io_result_traits<std::exception_ptr, R...> {
  using stored = std::tuple<std::exception_ptr, std::decay_t<R>...>;
  static void check(const stored& s) {
    if (std::get<0>(s)) std::rethrow_exception(std::get<0>(s));
  }
  static auto value(stored&& s) {
    if constexpr (sizeof...(R) == 0)
      return;
    else if constexpr (sizeof...(R) == 1)
      return std::move(std::get<1>(s));
    else
      return std::apply([](auto&&, auto&&... rest) { return std::tuple<std::decay_t<R>...>(std::move(rest)...); },
                        std::move(s));
  }
};

template <class... R>
using io_traits = io_result_traits<std::decay_t<R>...>;

// The awaitable an Asio initiating function returns for use_task.
template <class Initiation, class InitArgs, class... R>
class asio_awaitable {
public:
  asio_awaitable(Initiation init, InitArgs args) : init_(std::move(init)), args_(std::move(args)) {}

  bool await_ready() const noexcept { return false; }

  void await_suspend(std::coroutine_handle<> h) {
    sched_ = scheduler::current();
    if (!sched_) throw runtime_error("corio: an operation with corio::use_task must be awaited inside a corio runtime");
    h_ = h;
    // Move the initiation out of the frame first: once the operation has started it may complete
    // on the I/O thread and resume (and destroy) this frame before the initiation returns.
    auto init = std::move(init_);
    auto args = std::move(args_);
    std::apply([&](auto&&... a) { std::move(init)(handler{this}, std::forward<decltype(a)>(a)...); }, std::move(args));
  }

  auto await_resume() {
    io_traits<R...>::check(*result_);
    return io_traits<R...>::value(std::move(*result_));
  }

  struct handler {
    asio_awaitable* self;
    template <class... A>
    void operator()(A&&... a) {
      self->result_.emplace(std::forward<A>(a)...);
      resume_from_io(*self->sched_, self->h_);
    }
  };

private:
  Initiation init_;
  InitArgs args_;
  std::optional<typename io_traits<R...>::stored> result_;
  std::coroutine_handle<> h_{};
  scheduler* sched_ = nullptr;
};

} // namespace detail
} // namespace corio

template <class... R>
class asio::async_result<corio::use_task_t, void(R...)> {
public:
  template <class Initiation, class... InitArgs>
  static auto initiate(Initiation&& init, corio::use_task_t, InitArgs&&... args) {
    using tuple = std::tuple<std::decay_t<InitArgs>...>;
    return corio::detail::asio_awaitable<std::decay_t<Initiation>, tuple, R...>(
        std::forward<Initiation>(init), tuple(std::forward<InitArgs>(args)...));
  }
};
