// spawn: one task creates n empty tasks with create_task, then awaits every handle.
#include "asio_join.hpp"
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <vector>

namespace {

corio::task<int> empty_corio() { co_return 1; }

corio::task<long> spawn_corio(long n) {
  std::vector<corio::join_handle<int>> hs;
  hs.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) hs.push_back(corio::create_task(empty_corio()));
  long sum = 0;
  for (auto& h : hs) sum += co_await h;
  co_return sum;
}

asio::awaitable<int> empty_asio() { co_return 1; }

asio::awaitable<long> spawn_asio(long n) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<bench::asio_join<int>> hs;
  hs.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) hs.emplace_back(ex, empty_asio());
  long sum = 0;
  for (auto& h : hs) sum += co_await h.join();
  co_return sum;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  long threads = a.num("threads", 1);
  long n = a.num("n", 1'000'000);
  long result = 0;
  double secs = 0;
  if (impl == "corio") {
    corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
    bench::stopwatch sw;
    result = rt.block_on(spawn_corio(n));
    secs = sw.seconds();
  } else if (impl == "asio") {
    asio::thread_pool pool(static_cast<std::size_t>(threads));
    bench::stopwatch sw;
    asio::co_spawn(pool, spawn_asio(n), [&](std::exception_ptr, long v) { result = v; });
    pool.join();
    secs = sw.seconds();
  } else {
    bench::fail("unknown --impl " + impl);
  }
  if (result != n) bench::fail(fmt::format("joined {} tasks, expected {}", result, n));
  bench::report("spawn", impl, threads, fmt::format("\"n\": {}", n), secs, static_cast<double>(n));
}
