// chain: each task spawns the next and awaits it, depth n (every frame stays alive until the
// last one finishes, then the chain unwinds through n join hand-offs).
#include "bench_common.hpp"

#include <corio/corio.hpp>

namespace {

corio::task<long> chain(long n) {
  if (n == 0) co_return 0;
  auto h = corio::create_task(chain(n - 1));
  co_return 1 + co_await h;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  long threads = a.num("threads", 1);
  long n = a.num("n", 100'000);
  corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
  bench::stopwatch sw;
  long result = rt.block_on(chain(n));
  double secs = sw.seconds();
  if (result != n) bench::fail(fmt::format("chain returned {}, expected {}", result, n));
  bench::report("chain", "corio", threads, fmt::format("\"depth\": {}", n), secs, static_cast<double>(n));
}
