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
//
// Cancellation (join_handle::cancel): the operation is cancelled through its Asio cancellation
// slot (terminal), from the thread that runs its I/O executor, and the task resumes exactly
// once, with cancelled_error if the operation ended aborted (whatever it had done is lost, as
// Asio defines for that operation; reads into your buffer may have filled part of it), or with
// the operation's own result if it finished first (the request then stays pending for the next
// suspension point). Operations whose initiation has no executor, or that ignore their slot,
// simply run to completion. A request made before the operation starts means it never starts.
#include <corio/detail/cancel.hpp>
#include <corio/detail/io_resume.hpp>
#include <corio/errors.hpp>
#include <corio/io_errors.hpp>
#include <corio/scheduler.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include <atomic>
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
//
// Resuming exactly once: refs_ counts who may still resume the coroutine: the handler (1), and a
// cancellation in flight (+1, taken only while the handler has not run). A cancellation posts
// the emit to the operation's executor (Asio objects are used from their own thread only); the
// emit is skipped if the handler has run meanwhile. The last of the two resumes.
template <class Initiation, class InitArgs, class... R>
class asio_awaitable : cancel_registration {
public:
  asio_awaitable(Initiation init, InitArgs args) : init_(std::move(init)), args_(std::move(args)) {}
  asio_awaitable(asio_awaitable&& o) : init_(std::move(o.init_)), args_(std::move(o.args_)) {} // before start
  asio_awaitable& operator=(asio_awaitable&&) = delete;
  ~asio_awaitable() { disarm_cancel(root_, this); }

  bool await_ready() const noexcept { return false; }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    prepare(h);
    cancel_lock lock(root_);
    if (lock.pending()) { // sticky: the operation never starts
      cancelled_ = true;
      return false;
    }
    start(lock);
    return true;
  }

  // The two halves of await_suspend, for awaiters that must take their own lock between them
  // (locked_start.hpp): the cancel lock always comes first.
  template <class P>
  void prepare(std::coroutine_handle<P> h) {
    sched_ = scheduler::current();
    if (!sched_) throw runtime_error("corio: an operation with corio::use_task must be awaited inside a corio runtime");
    h_ = h;
    root_ = cancel_root(h, *this);
  }
  task_header* root() const noexcept { return root_; }
  void start_cancelled() noexcept { cancelled_ = true; }
  // Starts the operation; `lock` is the task's cancel lock, held (checked: nothing pending).
  void start(cancel_lock& lock) {
    // Move the initiation out of the frame first: once the operation has started it may complete
    // on the I/O thread and resume (and destroy) this frame before the initiation returns. The
    // cancel lock keeps it from resuming before arm(), not from completing.
    auto init = std::move(init_);
    auto args = std::move(args_);
    bool cancellable = false; // a local: without a root nothing holds the frame after the start
    if constexpr (requires { init.get_executor(); }) {
      if (root_) {
        post_cancel_ = [](asio_awaitable* self) { asio::post(*self->executor_, [self] { self->emit_cancel(); }); };
        executor_.emplace(init.get_executor());
        cancellable = true;
      }
    }
    std::apply([&](auto&&... a) { std::move(init)(handler{this}, std::forward<decltype(a)>(a)...); }, std::move(args));
    if (cancellable) {
      on_cancel = &request;
      what = "an Asio operation";
      lock.arm(this);
    }
  }

  auto await_resume() {
    task_header* root = std::exchange(root_, nullptr);
    disarm_cancel(root, this);
    if (cancelled_) deliver_cancel(root); // never started
    if (cancel_sent_.load(std::memory_order_relaxed) && aborted(*result_)) deliver_cancel(root);
    io_traits<R...>::check(*result_);
    return io_traits<R...>::value(std::move(*result_));
  }

  struct handler {
    asio_awaitable* self;

    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return self->root_ ? self->signal_.slot() : cancellation_slot_type();
    }

    template <class... A>
    void operator()(A&&... a) {
      asio_awaitable* s = self;
      s->result_.emplace(std::forward<A>(a)...);
      s->handler_ran_.store(true, std::memory_order_release);
      s->release();
    }
  };

private:
  static bool aborted(const typename io_traits<R...>::stored& r) noexcept {
    if constexpr (requires { std::get<0>(r) == asio::error::operation_aborted; })
      return std::get<0>(r) == asio::error::operation_aborted;
    else
      return false;
  }
  // Under the task's cancel lock, on the canceller's thread.
  static void request(cancel_registration* r) noexcept {
    auto* self = static_cast<asio_awaitable*>(r);
    int n = self->refs_.load(std::memory_order_acquire);
    do {
      if (n == 0) return; // the handler has run; the result wins
    } while (!self->refs_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
    self->cancel_sent_.store(true, std::memory_order_relaxed);
    try {
      self->post_cancel_(self);
    } catch (...) {
      self->release(); // could not post (out of memory): the operation just runs to completion
    }
  }
  void emit_cancel() noexcept {
    if (!handler_ran_.load(std::memory_order_acquire)) signal_.emit(asio::cancellation_type::terminal);
    release();
  }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) resume_from_io(*sched_, h_);
  }

  Initiation init_;
  InitArgs args_;
  std::optional<typename io_traits<R...>::stored> result_;
  std::coroutine_handle<> h_{};
  scheduler* sched_ = nullptr;
  task_header* root_ = nullptr;
  bool cancelled_ = false;
  std::atomic<int> refs_{1};
  std::atomic<bool> handler_ran_{false};
  std::atomic<bool> cancel_sent_{false};
  asio::cancellation_signal signal_;
  void (*post_cancel_)(asio_awaitable*) = nullptr;
  std::optional<asio::any_io_executor> executor_;
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
