#pragma once
// Timeouts (asyncio.wait_for / asyncio.timeout / asyncio.timeout_at): await something, but give
// up after a while.
//
//   std::string line = co_await corio::wait_for(reader.readline(), 2s);
//   auto page = co_await corio::timeout(5s, fetch(url));               // the same, asyncio 3.11 order
//   co_await corio::timeout_at(deadline, [&]() -> corio::task<> {      // a whole block of work
//     co_await step_one();
//     co_await step_two();
//   }());
//
// When the deadline passes first, the awaited work is cancelled (join_handle::cancel's protocol:
// cancelled_error at its current suspension point), awaited until it has finished, and only
// then corio::timeout_error is thrown. If the work finishes first its result is returned, even
// when the deadline passed a moment before (the expiry is withdrawn). A cancellation of the
// calling task from elsewhere still surfaces as cancelled_error, not timeout_error: as asyncio,
// the conversion happens only when the timeout's own request is the one being delivered
// (cancelling() back at its value on entry). A timeout never fires early; it fires on the I/O
// thread, so it is as punctual as sleep(). An awaitable that is ready at once (await_ready)
// costs no timer at all. Nests: the innermost expired timeout is the one that reports.
//
// Must be awaited by a corio task inside a corio::runtime (throws corio::runtime_error
// otherwise). A non-positive duration expires at once: the work is started, then cancelled at
// its first suspension point.
#include <corio/awaitable.hpp>
#include <corio/detail/cancel.hpp>
#include <corio/errors.hpp>
#include <corio/task.hpp>

#include <chrono>
#include <coroutine>
#include <type_traits>
#include <utility>

namespace corio {

namespace detail {

// Arms a timer that requests cancellation of `root` at `deadline` (io/src/timeout_timer.cpp).
class timeout_timer {
public:
  timeout_timer(task_header* root, std::chrono::steady_clock::time_point deadline);
  timeout_timer(const timeout_timer&) = delete;
  timeout_timer& operator=(const timeout_timer&) = delete;
  ~timeout_timer() { disarm(); }
  // Stops the timer. Returns true if it had fired (its cancellation request was made); then the
  // request is over (no thread touches the task for it any more) when this returns.
  bool disarm() noexcept;

private:
  void* node_ = nullptr;
  bool external_ = false;
  bool fired_ = false;
};

template <class A>
using timeout_result_t = await_result_t<A>;

template <class A>
task<timeout_result_t<A>> timeout_at_impl(std::chrono::steady_clock::time_point deadline, A aw) {
  decltype(auto) awaiter = get_awaiter(std::move(aw));
  if (awaiter.await_ready()) co_return awaiter.await_resume(); // nothing to wait for
  task_header* root = co_await current_root_awaiter{};
  if (!root) throw runtime_error("corio: a timeout must be awaited by a corio task");
  const std::uint32_t entry = cancelling_count(root);
  timeout_timer timer(root, deadline);
  try {
    if constexpr (std::is_void_v<timeout_result_t<A>>) {
      co_await awaiter;
      if (timer.disarm()) uncancel(root); // finished first: withdraw the expiry
      co_return;
    } else {
      decltype(auto) r = co_await awaiter;
      if (timer.disarm()) uncancel(root);
      co_return static_cast<timeout_result_t<A>>(r);
    }
  } catch (const cancelled_error&) {
    if (timer.disarm() && uncancel(root) <= entry) throw timeout_error();
    throw;
  }
}

} // namespace detail

template <awaitable A>
auto timeout_at(std::chrono::steady_clock::time_point deadline, A&& aw) {
  return detail::timeout_at_impl<std::remove_cvref_t<A>>(deadline, std::forward<A>(aw));
}

template <class Rep, class Period, awaitable A>
auto timeout(std::chrono::duration<Rep, Period> d, A&& aw) {
  // Rounded up to the clock's tick, so a timeout never fires before the duration has passed.
  return timeout_at(std::chrono::steady_clock::now() + std::chrono::ceil<std::chrono::steady_clock::duration>(d),
                    std::forward<A>(aw));
}

template <awaitable A, class Rep, class Period>
auto wait_for(A&& aw, std::chrono::duration<Rep, Period> d) {
  return timeout(d, std::forward<A>(aw));
}

} // namespace corio
