// timeout_overhead: what a timeout costs around an operation. n times, one task awaits an
// operation that is either ready at once (--ready 1: a set event) or needs one trip through the
// scheduler (--ready 0: a yield), with or without a timeout of 1 s that never fires.
//   corio:       co_await corio::wait_for(op, 1s)
//   plain:       co_await op (corio, no timeout): the floor
//   asio:        co_await (op || timer.async_wait()) with awaitable_operators, Asio's idiom
//                (--ready 0: op is a post; --ready 1 has no asio equivalent and is skipped)
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>

using namespace std::chrono_literals;

namespace {

corio::task<long> loop_corio(long n, bool ready, bool with_timeout) {
  corio::event e(true);
  long sum = 0;
  for (long i = 0; i < n; ++i) {
    if (ready) {
      if (with_timeout)
        co_await corio::wait_for(e.wait(), 1s);
      else
        co_await e.wait();
    } else {
      if (with_timeout)
        co_await corio::wait_for(corio::yield(), 1s);
      else
        co_await corio::yield();
    }
    ++sum;
  }
  co_return sum;
}

asio::awaitable<void> loop_asio(long n, long& sum) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex);
  for (long i = 0; i < n; ++i) {
    t.expires_after(1s);
    co_await (asio::post(ex, asio::use_awaitable) || t.async_wait(asio::use_awaitable));
    ++sum;
  }
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  long threads = a.num("threads", 1);
  long n = a.num("n", 1'000'000);
  bool ready = a.num("ready", 0) != 0;
  long result = 0;
  double secs = 0;
  if (impl == "corio" || impl == "plain") {
    corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
    bench::stopwatch sw;
    result = rt.block_on(loop_corio(n, ready, impl == "corio"));
    secs = sw.seconds();
  } else if (impl == "asio") {
    if (ready) return 0; // nothing comparable: an Asio operation always goes through the executor
    asio::io_context ctx(1);
    bench::stopwatch sw;
    asio::co_spawn(ctx, loop_asio(n, result), asio::detached);
    ctx.run();
    secs = sw.seconds();
  } else {
    bench::fail("unknown --impl " + impl);
  }
  if (result != n) bench::fail(fmt::format("{} operations, expected {}", result, n));
  bench::report("timeout_overhead", impl, threads, fmt::format("\"n\": {}, \"ready\": {}", n, ready ? 1 : 0), secs,
                static_cast<double>(n));
}
