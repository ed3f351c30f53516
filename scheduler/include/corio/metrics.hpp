#pragma once
// A snapshot of what a scheduler has been doing, for dashboards, tests and tools/profile.
//
//   auto m = rt.metrics();
//   for (auto& w : m.workers) fmt::print("polled {} stolen {}\n", w.polled, w.stolen);
//
// Counters are kept per worker with plain relaxed stores by the owning worker, so keeping them
// always on costs a few instructions per scheduling step. A snapshot taken while the runtime is
// busy is approximate (each counter is read once, not all at one instant).
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace corio {

// Durations in powers of two: bucket i counts samples shorter than upper_bound(i) = 2^(i+8) ns
// (256 ns, 512 ns, 1 us, ... about 1.07 s); the last bucket also counts everything longer.
struct duration_histogram {
  static constexpr std::size_t size = 24;
  std::array<std::uint64_t, size> counts{};

  static constexpr std::chrono::nanoseconds upper_bound(std::size_t i) noexcept {
    return std::chrono::nanoseconds(std::int64_t{1} << (i + 8));
  }
  static constexpr std::size_t bucket_of(std::uint64_t ns) noexcept {
    const std::size_t w = static_cast<std::size_t>(std::bit_width(ns));
    return w <= 8 ? 0 : (w - 8 < size ? w - 8 : size - 1);
  }
  std::uint64_t total() const noexcept {
    std::uint64_t n = 0;
    for (auto c : counts) n += c;
    return n;
  }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1): "q of the samples took
  // less than this". Zero when there are no samples.
  std::chrono::nanoseconds quantile(double q) const noexcept {
    const std::uint64_t n = total();
    if (n == 0) return std::chrono::nanoseconds(0);
    const auto want = static_cast<std::uint64_t>(q * static_cast<double>(n) + 0.5);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < size; ++i) {
      seen += counts[i];
      if (seen >= want && seen > 0) return upper_bound(i);
    }
    return upper_bound(size - 1);
  }
  duration_histogram& operator+=(const duration_histogram& o) noexcept {
    for (std::size_t i = 0; i < size; ++i) counts[i] += o.counts[i];
    return *this;
  }
};

struct worker_metrics {
  std::uint64_t polled = 0;          // coroutine resumptions run by the worker loop
  std::uint64_t stolen = 0;          // tasks this worker took from other workers' queues
  std::uint64_t steal_operations = 0; // successful steal batches (each takes half a queue)
  std::uint64_t parks = 0;           // times the worker went to sleep
  std::uint64_t unparks = 0;         // times it was woken
  std::uint64_t overflows = 0;       // times its local queue was full and spilled half to global
  std::uint64_t lifo_hits = 0;       // resumptions taken from the LIFO slot
  std::uint64_t global_pops = 0;     // tasks taken from the global queue (either lane)
  std::size_t local_queue_depth = 0; // tasks in its local queue at the snapshot
  // How long coroutine steps ran (one step in 64 is timed, so keeping it on is cheap).
  duration_histogram poll_time;
  // From a coroutine being woken (on this worker, one wake-up in 64; or a sampled hand-off from
  // the I/O threads or other threads) until a worker resumed it.
  duration_histogram schedule_latency;
};

struct scheduler_metrics {
  std::vector<worker_metrics> workers;
  std::size_t global_queue_depth = 0; // tasks waiting in the global queue (both lanes)
  std::uint64_t tasks_spawned = 0;    // create_task + spawn calls
  std::size_t tasks_alive = 0;        // spawned tasks whose frames still exist
  std::size_t offloads_in_flight = 0; // offload() jobs submitted and not finished
  std::uint64_t io_completions = 0;   // coroutines the I/O threads handed over (runtime::metrics)

  duration_histogram poll_time() const noexcept {
    duration_histogram h;
    for (auto& w : workers) h += w.poll_time;
    return h;
  }
  duration_histogram schedule_latency() const noexcept {
    duration_histogram h;
    for (auto& w : workers) h += w.schedule_latency;
    return h;
  }
};

} // namespace corio
