// spawn: one task creates n empty tasks with create_task, then awaits every handle.
//
// --impl memory is not a runtime: it measures what the memory alone costs on this machine. It
// takes n blocks of --block bytes (112: an empty task<int>'s frame with its header, GCC 12) from
// fresh, prefaulted 2 MiB regions, writes each at creation, then reads and writes each once to
// "run" it and once to "join" it, keeping the pointers in a vector as the corio run keeps its
// handles. No scheduling, no atomics: the floor under any runtime that keeps n tasks alive.
//
// --phases 1 also prints, on stderr, where the time went: creating the tasks, running and joining
// them (one phase for corio: the tasks run while the spawner waits for its first handles), and
// dropping the handles; for --impl memory the same three passes over bare blocks.
#include "asio_join.hpp"
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <sys/mman.h>

#include <cstring>
#include <optional>
#include <vector>

namespace {

// Seconds since the start at the end of each phase (--phases).
struct phase_times {
  bench::stopwatch sw;
  double created = 0, joined = 0, dropped = 0;
};

corio::task<int> empty_corio() { co_return 1; }

corio::task<long> spawn_corio(long n, phase_times* phases) {
  long sum = 0;
  {
    std::vector<corio::join_handle<int>> hs;
    hs.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) hs.push_back(corio::create_task(empty_corio()));
    if (phases) phases->created = phases->sw.seconds();
    for (auto& h : hs) sum += co_await h;
    if (phases) phases->joined = phases->sw.seconds();
  }
  if (phases) phases->dropped = phases->sw.seconds();
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

long memory_floor(long n, std::size_t block, phase_times* phases) {
  constexpr std::size_t region = std::size_t{2} << 20;
  std::vector<char*> blocks;
  blocks.reserve(static_cast<std::size_t>(n));
  char* next = nullptr;
  char* end = nullptr;
  for (long i = 0; i < n; ++i) {
    if (static_cast<std::size_t>(end - next) < block) {
      void* p = ::mmap(nullptr, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) bench::fail("mmap failed");
      next = static_cast<char*>(p);
      end = next + region;
      for (std::size_t c = 0; c < region; c += 65536) ::madvise(next + c, 65536, 23); // MADV_POPULATE_WRITE
    }
    std::memset(next, 1, block < 64 ? block : 64); // a frame's first line: what creating a task writes
    blocks.push_back(next);
    next += block;
  }
  if (phases) phases->created = phases->sw.seconds();
  long sum = 0;
  for (char* b : blocks) b[8] = static_cast<char>(b[0] + 1);  // run
  for (char* b : blocks) sum += b[8] - 1;                     // join
  if (phases) phases->joined = phases->dropped = phases->sw.seconds();
  return sum;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  long threads = a.num("threads", 1);
  long n = a.num("n", 1'000'000);
  std::optional<phase_times> phases_storage;
  phase_times* phases = nullptr;
  long result = 0;
  double secs = 0;
  if (impl == "corio") {
    corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
    if (a.num("phases", 0)) phases = &phases_storage.emplace();
    bench::stopwatch sw;
    result = rt.block_on(spawn_corio(n, phases));
    secs = sw.seconds();
  } else if (impl == "asio") {
    asio::thread_pool pool(static_cast<std::size_t>(threads));
    bench::stopwatch sw;
    asio::co_spawn(pool, spawn_asio(n), [&](std::exception_ptr, long v) { result = v; });
    pool.join();
    secs = sw.seconds();
  } else if (impl == "memory") {
    if (a.num("phases", 0)) phases = &phases_storage.emplace();
    bench::stopwatch sw;
    result = memory_floor(n, static_cast<std::size_t>(a.num("block", 112)), phases);
    secs = sw.seconds();
  } else {
    bench::fail("unknown --impl " + impl);
  }
  if (result != n) bench::fail(fmt::format("joined {} tasks, expected {}", result, n));
  std::string params = fmt::format("\"n\": {}", n);
  if (impl == "memory") params += fmt::format(", \"block\": {}", a.num("block", 112));
  bench::report("spawn", impl, threads, params, secs, static_cast<double>(n));
  if (phases)
    fmt::print(stderr, "{{\"phases\": \"spawn\", \"impl\": \"{}\", \"create_ns\": {:.1f}, \"run_join_ns\": {:.1f}, \"drop_ns\": {:.1f}}}\n",
               impl, phases->created * 1e9 / static_cast<double>(n),
               (phases->joined - phases->created) * 1e9 / static_cast<double>(n),
               (phases->dropped - phases->joined) * 1e9 / static_cast<double>(n));
}
