// fib: parallel fib(n); every call with n >= 2 spawns fib(n-1), computes fib(n-2) itself and
// then awaits the spawned one. No sequential cutoff: this measures spawn + join + steal.
#include "asio_join.hpp"
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <memory>

namespace {

corio::task<long> fib_corio(int n) {
  if (n < 2) co_return n;
  auto h = corio::create_task(fib_corio(n - 1));
  long b = co_await fib_corio(n - 2);
  co_return b + co_await h;
}

long fib_tbb(int n) {
  if (n < 2) return n;
  long a = 0;
  tbb::task_group g;
  g.run([&] { a = fib_tbb(n - 1); });
  long b = fib_tbb(n - 2);
  g.wait();
  return a + b;
}

asio::awaitable<long> fib_asio(int n) {
  if (n < 2) co_return n;
  bench::asio_join<long> a(co_await asio::this_coro::executor, fib_asio(n - 1));
  long b = co_await fib_asio(n - 2);
  co_return b + co_await a.join();
}

long expected(int n) {
  long a = 0, b = 1;
  for (int i = 0; i < n; ++i) {
    long t = a + b;
    a = b;
    b = t;
  }
  return a;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  int threads = static_cast<int>(a.num("threads", 1));
  int n = static_cast<int>(a.num("n", 30));
  long result = 0;
  bench::stopwatch sw;
  double secs = 0;
  if (impl == "corio") {
    corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
    bench::stopwatch inner;
    result = rt.block_on(fib_corio(n));
    secs = inner.seconds();
  } else if (impl == "tbb") {
    tbb::task_arena arena(threads);
    bench::stopwatch inner;
    arena.execute([&] { result = fib_tbb(n); });
    secs = inner.seconds();
  } else if (impl == "asio") {
    asio::thread_pool pool(threads);
    bench::stopwatch inner;
    asio::co_spawn(pool, fib_asio(n), [&](std::exception_ptr, long v) { result = v; });
    pool.join();
    secs = inner.seconds();
  } else {
    bench::fail("unknown --impl " + impl);
  }
  if (result != expected(n)) bench::fail(fmt::format("fib({}) = {}, expected {}", n, result, expected(n)));
  // Calls with n >= 2 each spawn one task: fib(n+1) - 1 of them.
  double spawns = static_cast<double>(expected(n + 1) - 1);
  bench::report("fib", impl, threads, fmt::format("\"n\": {}", n), secs, spawns);
}
