#pragma once
// Internal: a runtime's I/O threads (or the application's io_context) and its timers.
#include <asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace corio {
class scheduler;
class runtime;
}

namespace corio::detail {

class io_thread;
class ready_poller;
class timer_queue;
struct timer_node;

class io_service {
public:
  io_service(scheduler& s, std::size_t io_threads, asio::io_context* external, bool yield_to_workers);
  ~io_service();

  void start();
  void stop(); // joins the I/O threads; forgets timers whose frames are about to be destroyed

  // Round-robin over the I/O threads: where a new socket goes.
  asio::io_context& next_context() noexcept;
  asio::io_context& context(std::size_t index) noexcept;
  std::size_t size() const noexcept;
  // Coroutines the I/O threads have handed to the scheduler (completions, readiness, timers).
  std::uint64_t completions_handed() const noexcept;
  // Whether connections wait for read readiness (workers do every recv) rather than letting
  // Asio perform reads on the I/O thread: needs contexts each run by exactly one thread (ours).
  // CORIO_IO_MODE=completion selects the other model, for comparing them (io/README.md).
  bool readiness_reads() const noexcept;
  // Where a socket on ctx waits for readiness; null in completion mode.
  ready_poller* poller_for(asio::io_context& ctx) noexcept;

  // The timer queue driven by I/O thread 0; null when the application runs the io_context.
  timer_queue* timers() noexcept;
  // Registers a sleeping coroutine's node, waking the I/O thread when it becomes the earliest.
  void add_timer(timer_node* n) noexcept;
  // Queues a node its owner won (timer_node::try_remove) for removal from the heap; `urgent`
  // wakes the I/O thread now (someone waits for the removal).
  void remove_timer(timer_node* n, bool urgent) noexcept;

private:
  scheduler& sched_;
  asio::io_context* external_;
  std::vector<std::unique_ptr<io_thread>> threads_;
  std::atomic<std::size_t> next_{0};
};

// The I/O of the runtime the calling worker belongs to; throws corio::runtime_error outside a
// corio::runtime (a bare scheduler has no I/O threads).
io_service& current_io();

} // namespace corio::detail
