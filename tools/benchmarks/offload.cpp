// offload: 32 CPU-bound jobs (each sums sqrt(i) for i < 5,000,000), gathered.
//   --impl corio   offloaded to the runtime's TBB arena (--threads TBB threads, --workers workers)
//   --impl inline  run as tasks on the workers themselves (--threads workers)
//   --impl tbb     a plain tbb::task_group in an arena of --threads (the limit offload approaches)
// With --ping (corio, inline), a task sleeps 1 ms in a loop while the jobs run and records how
// late each wake-up was: what a latency-sensitive task on the same runtime goes through.
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

using namespace std::chrono_literals;

namespace {

double job(long n) {
  double s = 0;
  for (long i = 0; i < n; ++i) s += std::sqrt(static_cast<double>(i));
  return s;
}

corio::task<double> inline_job(long n) { co_return job(n); }

// Wants to run once every millisecond, on a fixed schedule: a starved pinger records how late
// each of its ticks came (after a 300 ms stall, ticks are late by 300, 299, ... ms).
// Runs until its schedule reaches the moment the jobs ended (`end`, set then): ticks it could not
// take while starved are still recorded, late.
corio::task<std::vector<long>> pinger(std::atomic<std::int64_t>& end) {
  std::vector<long> late_us;
  auto due = std::chrono::steady_clock::now();
  while (due.time_since_epoch().count() < end.load()) {
    due += 1ms;
    co_await corio::sleep_until(due);
    late_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - due).count());
  }
  co_return late_us;
}

corio::task<double> run_jobs(bool offloaded, long jobs, long n, bool ping, std::vector<long>& late) {
  std::atomic<std::int64_t> stop{std::numeric_limits<std::int64_t>::max()};
  std::optional<corio::join_handle<std::vector<long>>> p;
  if (ping) {
    p.emplace(corio::create_task(pinger(stop)));
    co_await corio::sleep(5ms); // the pinger is in its loop before the jobs start
  }
  double total = 0;
  if (offloaded) {
    std::vector<decltype(corio::offload(job, n))> work;
    for (long j = 0; j < jobs; ++j) work.push_back(corio::offload(job, n));
    for (double v : co_await corio::gather(std::move(work))) total += v;
  } else {
    std::vector<corio::task<double>> work;
    for (long j = 0; j < jobs; ++j) work.push_back(inline_job(n));
    for (double v : co_await corio::gather(std::move(work))) total += v;
  }
  stop = std::chrono::steady_clock::now().time_since_epoch().count();
  if (p) late = co_await *p;
  co_return total;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  long threads = a.num("threads", 1);
  long workers = a.num("workers", impl == "inline" ? threads : 1);
  long jobs = a.num("jobs", 32), n = a.num("n", 5'000'000);
  bool ping = a.num("ping", 0) != 0;
  double expected = job(n) * static_cast<double>(jobs);
  double total = 0;
  std::vector<long> late;
  bench::stopwatch sw;
  if (impl == "corio" || impl == "inline") {
    corio::runtime rt({.workers = static_cast<std::size_t>(workers), .offload_threads = static_cast<std::size_t>(threads)});
    sw = bench::stopwatch();
    total = rt.block_on(run_jobs(impl == "corio", jobs, n, ping, late));
  } else if (impl == "tbb") {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads) + 1);
    tbb::task_arena arena(static_cast<int>(threads));
    std::vector<double> r(static_cast<std::size_t>(jobs));
    sw = bench::stopwatch();
    arena.execute([&] {
      tbb::task_group g;
      for (long j = 0; j < jobs; ++j) g.run([&, j] { r[static_cast<std::size_t>(j)] = job(n); });
      g.wait();
    });
    for (double v : r) total += v;
  } else {
    bench::fail("unknown --impl " + impl);
  }
  double secs = sw.seconds();
  if (std::abs(total - expected) > 1e-6 * expected) bench::fail("wrong sum");
  std::string extra;
  if (ping && !late.empty()) {
    std::sort(late.begin(), late.end());
    extra = fmt::format("\"ping_p50_us\": {}, \"ping_p99_us\": {}, \"pings\": {}", late[late.size() / 2],
                        late[static_cast<std::size_t>(0.99 * static_cast<double>(late.size() - 1))], late.size());
  }
  bench::report(ping ? "offload_latency" : "offload", impl, threads,
                fmt::format("\"jobs\": {}, \"n\": {}, \"workers\": {}", jobs, n, workers), secs,
                static_cast<double>(jobs), extra);
}
