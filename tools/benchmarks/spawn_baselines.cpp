// spawn's baselines (see spawn.cpp for the workload, baselines.hpp for why a file of their own).
#include "asio_join.hpp"
#include "baselines.hpp"
#include "bench_common.hpp"

#include <sys/mman.h>

#include <cstring>
#include <vector>

namespace bench {

namespace {

asio::awaitable<int> empty_asio() { co_return 1; }

asio::awaitable<long> spawn_asio_body(long n) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<asio_join<int>> hs;
  hs.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) hs.emplace_back(ex, empty_asio());
  long sum = 0;
  for (auto& h : hs) sum += co_await h.join();
  co_return sum;
}

} // namespace

timed_result spawn_asio(long threads, long n) { return run_on_pool(threads, spawn_asio_body(n)); }

timed_result spawn_memory_floor(long n, long block_bytes, spawn_phases* phases) {
  constexpr std::size_t region = std::size_t{2} << 20;
  const auto block = static_cast<std::size_t>(block_bytes);
  stopwatch sw;
  std::vector<char*> blocks;
  blocks.reserve(static_cast<std::size_t>(n));
  char* next = nullptr;
  char* end = nullptr;
  for (long i = 0; i < n; ++i) {
    if (static_cast<std::size_t>(end - next) < block) {
      void* p = ::mmap(nullptr, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) fail("mmap failed");
      next = static_cast<char*>(p);
      end = next + region;
      for (std::size_t c = 0; c < region; c += 65536) ::madvise(next + c, 65536, 23); // MADV_POPULATE_WRITE
    }
    std::memset(next, 1, block < 64 ? block : 64); // a frame's first line: what creating a task writes
    blocks.push_back(next);
    next += block;
  }
  if (phases) phases->created = sw.seconds();
  long sum = 0;
  for (char* b : blocks) b[8] = static_cast<char>(b[0] + 1); // run
  for (char* b : blocks) sum += b[8] - 1;                    // join
  if (phases) phases->joined = phases->dropped = sw.seconds();
  return {sum, sw.seconds()};
}

} // namespace bench
