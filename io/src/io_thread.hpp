#pragma once
// One I/O thread: an asio::io_context run by a dedicated thread whose only jobs are waiting in
// the reactor, running completion handlers (which only hand coroutines back), and firing
// sleep() timers. Completions that become ready together reach the scheduler as one batch with
// one wake-up. See io/README.md.
#include "ready_poller.hpp"
#include "timer_queue.hpp"

#include <asio/io_context.hpp>

#include <atomic>
#include <coroutine>
#include <memory>
#include <thread>
#include <vector>

namespace corio {
class scheduler;
}

namespace corio::detail {

// Coroutines made ready by the handlers of one I/O thread round.
struct io_batch {
  scheduler* sched = nullptr;
  std::vector<std::coroutine_handle<>> handles;
  std::atomic<std::uint64_t> handed{0}; // coroutines handed over so far (metrics); I/O thread writes
  void flush();
};

class io_thread {
public:
  io_thread(scheduler& s, std::size_t index, bool owns_timers, bool yield_to_workers);
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;
  ~io_thread();

  void start();
  // Stops the thread after its current round and joins it. Pending operations stay in the
  // io_context (destroyed with it, never run).
  void stop();

  asio::io_context& context() noexcept { return ctx_; }
  timer_queue* timers() noexcept { return owns_timers_ ? &timers_ : nullptr; }
  std::uint64_t completions_handed() const noexcept { return batch_.handed.load(std::memory_order_relaxed); }
  ready_poller& poller() noexcept { return poller_; }
  // Makes the thread look at its timers again (a new earliest deadline).
  void wake();

private:
  void run();

  scheduler& sched_;
  std::size_t index_;
  asio::io_context ctx_{1}; // concurrency hint 1: one thread runs it
  ready_poller poller_{ctx_}; // after ctx_: its descriptor belongs to the context
  bool owns_timers_;
  bool yield_to_workers_;
  timer_queue timers_;
  io_batch batch_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace corio::detail
