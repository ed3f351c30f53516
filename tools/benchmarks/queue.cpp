// queue: one producer and one consumer pass `n` items through a bounded corio::queue.
#include "bench_common.hpp"

#include <corio/corio.hpp>

namespace {

corio::task<long> run(long n, std::size_t capacity) {
  corio::queue<long> q(capacity);
  auto producer = corio::create_task([](corio::queue<long>& q, long n) -> corio::task<void> {
    for (long i = 0; i < n; ++i) co_await q.put(i);
  }(q, n));
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await q.get();
  co_await producer;
  co_return sum;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  long threads = a.num("threads", 1);
  long n = a.num("n", 1'000'000);
  auto capacity = static_cast<std::size_t>(a.num("capacity", 1024));
  corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
  bench::stopwatch sw;
  long sum = rt.block_on(run(n, capacity));
  double secs = sw.seconds();
  if (sum != n * (n - 1) / 2) bench::fail("items lost or duplicated");
  bench::report("queue", "corio", threads, fmt::format("\"n\": {}, \"capacity\": {}", n, capacity), secs,
                static_cast<double>(n), fmt::format("\"items_per_s\": {:.0f}", static_cast<double>(n) / secs));
}
