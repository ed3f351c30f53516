// fib's baselines (see fib.cpp for the workload, baselines.hpp for why a file of their own).
#include "asio_join.hpp"
#include "baselines.hpp"
#include "bench_common.hpp"

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

namespace bench {

namespace {

long fib_tbb_rec(int n) {
  if (n < 2) return n;
  long a = 0;
  tbb::task_group g;
  g.run([&] { a = fib_tbb_rec(n - 1); });
  long b = fib_tbb_rec(n - 2);
  g.wait();
  return a + b;
}

asio::awaitable<long> fib_asio_rec(int n) {
  if (n < 2) co_return n;
  asio_join<long> a(co_await asio::this_coro::executor, fib_asio_rec(n - 1));
  long b = co_await fib_asio_rec(n - 2);
  co_return b + co_await a.join();
}

} // namespace

timed_result fib_tbb(int threads, int n) {
  timed_result r;
  tbb::task_arena arena(threads);
  stopwatch sw;
  arena.execute([&] { r.result = fib_tbb_rec(n); });
  r.seconds = sw.seconds();
  return r;
}

timed_result fib_asio(int threads, int n) { return run_on_pool(threads, fib_asio_rec(n)); }

} // namespace bench
