// fib: parallel fib(n); every call with n >= 2 spawns fib(n-1), computes fib(n-2) itself and
// then awaits the spawned one. No sequential cutoff: this measures spawn + join + steal.
#include "baselines.hpp"
#include "bench_common.hpp"

#include <corio/corio.hpp>

namespace {

corio::task<long> fib_corio(int n) {
  if (n < 2) co_return n;
  auto h = corio::create_task(fib_corio(n - 1));
  long b = co_await fib_corio(n - 2);
  co_return b + co_await h;
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
  } else if (impl == "tbb" || impl == "asio") {
    auto r = impl == "tbb" ? bench::fib_tbb(threads, n) : bench::fib_asio(threads, n);
    result = r.result;
    secs = r.seconds;
  } else {
    bench::fail("unknown --impl " + impl);
  }
  if (result != expected(n)) bench::fail(fmt::format("fib({}) = {}, expected {}", n, result, expected(n)));
  // Calls with n >= 2 each spawn one task: fib(n+1) - 1 of them.
  double spawns = static_cast<double>(expected(n + 1) - 1);
  bench::report("fib", impl, threads, fmt::format("\"n\": {}", n), secs, spawns);
}
