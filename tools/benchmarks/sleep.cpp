// sleep: n tasks each sleep 10 ms, all at once, gathered. Reports wall seconds from the first
// spawn to the last wake-up, and the memory each sleeping task costs (peak RSS growth / n).
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::task<int> sleeper_corio(std::chrono::milliseconds d) {
  co_await corio::sleep(d);
  co_return 1;
}

corio::task<long> storm_corio(long n, std::chrono::milliseconds d) {
  std::vector<corio::task<int>> ts;
  ts.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) ts.push_back(sleeper_corio(d));
  auto r = co_await corio::gather(std::move(ts));
  long sum = 0;
  for (int v : r) sum += v;
  co_return sum;
}

asio::awaitable<void> sleeper_asio(std::chrono::milliseconds d, std::atomic<long>& done) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
  done.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  long threads = a.num("threads", 1);
  long n = a.num("n", 100'000);
  auto d = std::chrono::milliseconds(a.num("ms", 10));
  long base_rss = bench::peak_rss_kb();
  long result = 0;
  double secs = 0;
  if (impl == "corio") {
    corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
    bench::stopwatch sw;
    result = rt.block_on(storm_corio(n, d));
    secs = sw.seconds();
  } else if (impl == "asio") {
    asio::io_context ctx(static_cast<int>(threads));
    std::atomic<long> done{0};
    bench::stopwatch sw;
    for (long i = 0; i < n; ++i) asio::co_spawn(ctx, sleeper_asio(d, done), asio::detached);
    std::vector<std::thread> pool;
    for (long t = 1; t < threads; ++t) pool.emplace_back([&] { ctx.run(); });
    ctx.run();
    for (auto& t : pool) t.join();
    secs = sw.seconds();
    result = done.load();
  } else {
    bench::fail("unknown --impl " + impl);
  }
  if (result != n) bench::fail(fmt::format("{} sleepers woke, expected {}", result, n));
  double per_task_bytes = (bench::peak_rss_kb() - base_rss) * 1024.0 / static_cast<double>(n);
  bench::report("sleep", impl, threads, fmt::format("\"n\": {}, \"ms\": {}", n, d.count()), secs,
                static_cast<double>(n), fmt::format("\"bytes_per_task\": {:.0f}", per_task_bytes));
}
