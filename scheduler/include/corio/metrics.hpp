#pragma once
// A snapshot of what a scheduler has been doing, for dashboards, tests and tools/profile.
//
//   auto m = rt.metrics();
//   for (auto& w : m.workers) fmt::print("polled {} stolen {}\n", w.polled, w.stolen);
//
// Counters are kept per worker with plain relaxed stores by the owning worker, so keeping them
// always on costs a few instructions per scheduling step. A snapshot taken while the runtime is
// busy is approximate (each counter is read once, not all at one instant).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace corio {

struct worker_metrics {
  std::uint64_t polled = 0;          // coroutine resumptions run by the worker loop
  std::uint64_t stolen = 0;          // tasks this worker took from other workers' queues
  std::uint64_t steal_operations = 0; // successful steal batches (each takes half a queue)
  std::uint64_t parks = 0;           // times the worker went to sleep
  std::uint64_t unparks = 0;         // times it was woken
  std::uint64_t overflows = 0;       // times its local queue was full and spilled half to global
  std::uint64_t lifo_hits = 0;       // resumptions taken from the LIFO slot
  std::uint64_t global_pops = 0;     // tasks taken from the global injection queue
  std::size_t local_queue_depth = 0; // tasks in its local queue at the snapshot
};

struct scheduler_metrics {
  std::vector<worker_metrics> workers;
  std::size_t global_queue_depth = 0; // tasks waiting in the global injection queue
  std::uint64_t tasks_spawned = 0;    // create_task + spawn calls
  std::size_t tasks_alive = 0;        // spawned tasks whose frames still exist
  std::size_t offloads_in_flight = 0; // offload() jobs submitted and not finished
};

} // namespace corio
