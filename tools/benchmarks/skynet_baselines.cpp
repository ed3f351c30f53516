// skynet's baselines (see skynet.cpp for the workload, baselines.hpp for why a file of their own).
#include "asio_join.hpp"
#include "baselines.hpp"
#include "bench_common.hpp"

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <array>
#include <vector>

namespace bench {

namespace {

long skynet_tbb_rec(long num, long size) {
  if (size == 1) return num;
  std::array<long, 10> r{};
  long sub = size / 10;
  tbb::task_group g;
  for (long i = 0; i < 10; ++i) g.run([&r, i, num, sub] { r[static_cast<std::size_t>(i)] = skynet_tbb_rec(num + i * sub, sub); });
  g.wait();
  long sum = 0;
  for (long v : r) sum += v;
  return sum;
}

asio::awaitable<long> skynet_asio_rec(long num, long size) {
  if (size == 1) co_return num;
  auto ex = co_await asio::this_coro::executor;
  std::vector<asio_join<long>> hs;
  hs.reserve(10);
  long sub = size / 10;
  for (long i = 0; i < 10; ++i) hs.emplace_back(ex, skynet_asio_rec(num + i * sub, sub));
  long sum = 0;
  for (auto& h : hs) sum += co_await h.join();
  co_return sum;
}

} // namespace

timed_result skynet_tbb(long threads, long leaves) {
  timed_result r;
  tbb::task_arena arena(static_cast<int>(threads));
  stopwatch sw;
  arena.execute([&] { r.result = skynet_tbb_rec(0, leaves); });
  r.seconds = sw.seconds();
  return r;
}

timed_result skynet_asio(long threads, long leaves) { return run_on_pool(threads, skynet_asio_rec(0, leaves)); }

} // namespace bench
