// cancel: n tasks wait on 60 s timers; all are cancelled at once and awaited. Reports the wall
// seconds from the first cancel() to the last task having finished (per_op_ns: per task).
//   corio: join_handle::cancel() on each sleeping task.
//   asio:  one cancellation_signal per coroutine (bind_cancellation_slot), emitted on its thread.
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::task<void> sleeper_corio() { co_await corio::sleep(60s); }

corio::task<double> storm_corio(long n) {
  std::vector<corio::join_handle<void>> hs;
  hs.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) hs.push_back(corio::create_task(sleeper_corio()));
  co_await corio::sleep(20ms); // every task is asleep
  bench::stopwatch sw;
  for (auto& h : hs) h.cancel();
  long cancelled = 0;
  for (auto& h : hs) {
    try {
      co_await h;
    } catch (const corio::cancelled_error&) {
      ++cancelled;
    }
  }
  double secs = sw.seconds();
  if (cancelled != n) bench::fail(fmt::format("{} of {} tasks were cancelled", cancelled, n));
  co_return secs;
}

asio::awaitable<void> sleeper_asio(std::atomic<long>& done) {
  asio::steady_timer t(co_await asio::this_coro::executor, 60s);
  std::error_code ec;
  try {
    co_await t.async_wait(asio::use_awaitable);
  } catch (const std::system_error&) {
  }
  done.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  long threads = a.num("threads", 1);
  long n = a.num("n", 100'000);
  double secs = 0;
  if (impl == "corio") {
    corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
    secs = rt.block_on(storm_corio(n));
  } else if (impl == "asio") {
    asio::io_context ctx(static_cast<int>(threads));
    std::atomic<long> done{0};
    std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
    for (long i = 0; i < n; ++i) {
      signals.push_back(std::make_unique<asio::cancellation_signal>());
      asio::co_spawn(ctx, sleeper_asio(done), asio::bind_cancellation_slot(signals.back()->slot(), [](std::exception_ptr) {}));
    }
    bench::stopwatch sw;
    // Emitted on the context's thread (signals are not thread-safe), after everyone is asleep.
    asio::steady_timer start(ctx, 20ms);
    start.async_wait([&](std::error_code) {
      sw = bench::stopwatch();
      for (auto& s : signals) s->emit(asio::cancellation_type::terminal);
    });
    std::vector<std::thread> pool;
    for (long t = 1; t < threads; ++t) pool.emplace_back([&] { ctx.run(); });
    ctx.run();
    for (auto& t : pool) t.join();
    secs = sw.seconds();
    if (done.load() != n) bench::fail(fmt::format("{} of {} coroutines finished", done.load(), n));
  } else {
    bench::fail("unknown --impl " + impl);
  }
  bench::report("cancel", impl, threads, fmt::format("\"n\": {}", n), secs, static_cast<double>(n));
}
