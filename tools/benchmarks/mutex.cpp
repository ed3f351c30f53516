// mutex: `tasks` tasks each do `ops` x (lock, increment, unlock) on one mutex; the final count
// is checked. --impl corio uses corio::mutex; --impl std holds a std::mutex around the increment
// inside the tasks (what people do wrongly in coroutine code). --mode uncontended: one task,
// lock + unlock in a loop (the fast path's cost).
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <mutex>
#include <vector>

namespace {

template <class Lockish>
corio::task<void> hammer(Lockish& m, long& counter, long ops) {
  for (long i = 0; i < ops; ++i) {
    if constexpr (std::is_same_v<Lockish, corio::mutex>) {
      co_await m.lock();
      ++counter;
      m.unlock();
    } else {
      std::lock_guard lock(m);
      ++counter;
    }
  }
}

template <class Lockish>
corio::task<long> contended(long tasks, long ops) {
  Lockish m;
  long counter = 0;
  std::vector<corio::join_handle<void>> hs;
  for (long t = 0; t < tasks; ++t) hs.push_back(corio::create_task(hammer(m, counter, ops)));
  for (auto& h : hs) co_await h;
  co_return counter;
}

corio::task<long> uncontended(long ops) {
  corio::mutex m;
  long counter = 0;
  for (long i = 0; i < ops; ++i) {
    co_await m.lock();
    ++counter;
    m.unlock();
  }
  co_return counter;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  auto mode = a.get("mode", "contended");
  long threads = a.num("threads", 1);
  long tasks = a.num("tasks", 1000), ops = a.num("ops", 1000);
  corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
  bench::stopwatch sw;
  long result = 0, expected = 0;
  if (mode == "uncontended") {
    ops = a.num("ops", 10'000'000);
    expected = ops;
    result = rt.block_on(uncontended(ops));
  } else if (impl == "corio") {
    expected = tasks * ops;
    result = rt.block_on(contended<corio::mutex>(tasks, ops));
  } else if (impl == "std") {
    expected = tasks * ops;
    result = rt.block_on(contended<std::mutex>(tasks, ops));
  } else {
    bench::fail("unknown --impl " + impl);
  }
  double secs = sw.seconds();
  if (result != expected) bench::fail(fmt::format("final count {} != {}: lost updates", result, expected));
  bench::report(mode == "uncontended" ? "mutex_uncontended" : "mutex", impl, threads,
                fmt::format("\"tasks\": {}, \"ops\": {}", mode == "uncontended" ? 1 : tasks, ops), secs,
                static_cast<double>(expected), fmt::format("\"ops_per_s\": {:.0f}", static_cast<double>(expected) / secs));
}
