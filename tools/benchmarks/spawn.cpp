// spawn: one task creates n empty tasks with create_task, then awaits every handle.
//
// --impl memory (spawn_baselines.cpp) is not a runtime: it measures what the memory alone costs. It
// takes n blocks of --block bytes (96: an empty task<int>'s frame with its header, GCC 12) from
// fresh, prefaulted 2 MiB regions, writes each at creation, then reads and writes each once to
// "run" it and once to "join" it, keeping the pointers in a vector as the corio run keeps its
// handles. No scheduling, no atomics: the floor under any runtime that keeps n tasks alive.
//
// --phases 1 also prints, on stderr, where the time went: creating the tasks, running and joining
// them (one phase for corio: the tasks run while the spawner waits for its first handles), and
// dropping the handles; for --impl memory the same three passes over bare blocks.
#include "baselines.hpp"
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <optional>
#include <vector>

namespace {

// Seconds since the start at the end of each phase (--phases).
struct phase_times {
  bench::stopwatch sw;
  bench::spawn_phases at;
};

corio::task<int> empty_corio() { co_return 1; }

corio::task<long> spawn_corio(long n, phase_times* phases) {
  long sum = 0;
  {
    std::vector<corio::join_handle<int>> hs;
    hs.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) hs.push_back(corio::create_task(empty_corio()));
    if (phases) phases->at.created = phases->sw.seconds();
    for (auto& h : hs) sum += co_await h;
    if (phases) phases->at.joined = phases->sw.seconds();
  }
  if (phases) phases->at.dropped = phases->sw.seconds();
  co_return sum;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  long threads = a.num("threads", 1);
  long n = a.num("n", 1'000'000);
  const long block = a.num("block", 96);
  std::optional<phase_times> phases_storage;
  if (a.num("phases", 0)) phases_storage.emplace();
  bench::spawn_phases* at = phases_storage ? &phases_storage->at : nullptr;
  long result = 0;
  double secs = 0;
  if (impl == "corio") {
    corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
    if (phases_storage) phases_storage->sw = bench::stopwatch();
    bench::stopwatch sw;
    result = rt.block_on(spawn_corio(n, phases_storage ? &*phases_storage : nullptr));
    secs = sw.seconds();
  } else if (impl == "asio" || impl == "memory") {
    auto r = impl == "asio" ? bench::spawn_asio(threads, n) : bench::spawn_memory_floor(n, block, at);
    result = r.result;
    secs = r.seconds;
  } else {
    bench::fail("unknown --impl " + impl);
  }
  if (result != n) bench::fail(fmt::format("joined {} tasks, expected {}", result, n));
  std::string params = fmt::format("\"n\": {}", n);
  if (impl == "memory") params += fmt::format(", \"block\": {}", block);
  bench::report("spawn", impl, threads, params, secs, static_cast<double>(n));
  if (at)
    fmt::print(stderr, "{{\"phases\": \"spawn\", \"impl\": \"{}\", \"create_ns\": {:.1f}, \"run_join_ns\": {:.1f}, \"drop_ns\": {:.1f}}}\n",
               impl, at->created * 1e9 / static_cast<double>(n), (at->joined - at->created) * 1e9 / static_cast<double>(n),
               (at->dropped - at->joined) * 1e9 / static_cast<double>(n));
}
