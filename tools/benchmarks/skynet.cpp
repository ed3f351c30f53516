// skynet: every task spawns 10 children until `size` leaves; each leaf returns its number and
// parents sum their children (1,000,000 leaves: 6 levels, 1,111,111 tasks).
#include "asio_join.hpp"
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <array>
#include <optional>

namespace {

corio::task<long> skynet_corio(long num, long size) {
  if (size == 1) co_return num;
  std::array<std::optional<corio::join_handle<long>>, 10> hs;
  long sub = size / 10;
  for (long i = 0; i < 10; ++i) hs[static_cast<std::size_t>(i)].emplace(corio::create_task(skynet_corio(num + i * sub, sub)));
  long sum = 0;
  for (auto& h : hs) sum += co_await *h;
  co_return sum;
}

long skynet_tbb(long num, long size) {
  if (size == 1) return num;
  std::array<long, 10> r{};
  long sub = size / 10;
  tbb::task_group g;
  for (long i = 0; i < 10; ++i) g.run([&r, i, num, sub] { r[static_cast<std::size_t>(i)] = skynet_tbb(num + i * sub, sub); });
  g.wait();
  long sum = 0;
  for (long v : r) sum += v;
  return sum;
}

asio::awaitable<long> skynet_asio(long num, long size) {
  if (size == 1) co_return num;
  auto ex = co_await asio::this_coro::executor;
  std::vector<bench::asio_join<long>> hs;
  hs.reserve(10);
  long sub = size / 10;
  for (long i = 0; i < 10; ++i) hs.emplace_back(ex, skynet_asio(num + i * sub, sub));
  long sum = 0;
  for (auto& h : hs) sum += co_await h.join();
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
  } else if (impl == "tbb") {
    tbb::task_arena arena(static_cast<int>(threads));
    bench::stopwatch sw;
    arena.execute([&] { result = skynet_tbb(0, leaves); });
    secs = sw.seconds();
  } else if (impl == "asio") {
    asio::thread_pool pool(static_cast<std::size_t>(threads));
    bench::stopwatch sw;
    asio::co_spawn(pool, skynet_asio(0, leaves), [&](std::exception_ptr, long v) { result = v; });
    pool.join();
    secs = sw.seconds();
  } else {
    bench::fail("unknown --impl " + impl);
  }
  long expected = leaves * (leaves - 1) / 2;
  if (result != expected) bench::fail(fmt::format("skynet sum {} != {}", result, expected));
  long tasks = 0;
  for (long s = leaves; s >= 1; s /= 10) tasks += leaves / s;
  bench::report("skynet", impl, threads, fmt::format("\"leaves\": {}", leaves), secs, static_cast<double>(tasks));
}
