// skynet: every task spawns 10 children until `size` leaves; each leaf returns its number and
// parents sum their children (1,000,000 leaves: 6 levels, 1,111,111 tasks).
#include "baselines.hpp"
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <array>

namespace {

corio::task<long> skynet_corio(long num, long size) {
  if (size == 1) co_return num;
  std::array<corio::join_handle<long>, 10> hs;
  long sub = size / 10;
  for (long i = 0; i < 10; ++i) hs[static_cast<std::size_t>(i)] = corio::create_task(skynet_corio(num + i * sub, sub));
  long sum = 0;
  for (auto& h : hs) sum += co_await h;
  co_return sum;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  long threads = a.num("threads", 1);
  long leaves = a.num("n", 1'000'000);
  long result = 0;
  double secs = 0;
  if (impl == "corio") {
    corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
    bench::stopwatch sw;
    result = rt.block_on(skynet_corio(0, leaves));
    secs = sw.seconds();
  } else if (impl == "tbb" || impl == "asio") {
    auto r = impl == "tbb" ? bench::skynet_tbb(threads, leaves) : bench::skynet_asio(threads, leaves);
    result = r.result;
    secs = r.seconds;
  } else {
    bench::fail("unknown --impl " + impl);
  }
  long expected = leaves * (leaves - 1) / 2;
  if (result != expected) bench::fail(fmt::format("skynet sum {} != {}", result, expected));
  long tasks = 0;
  for (long s = leaves; s >= 1; s /= 10) tasks += leaves / s;
  bench::report("skynet", impl, threads, fmt::format("\"leaves\": {}", leaves), secs, static_cast<double>(tasks));
}
