#pragma once
// One I/O thread's readiness set: an epoll instance of its own in which sockets are registered
// one-shot, only while a coroutine waits on them (corio/detail/ready_slot.hpp says why). The
// instance's descriptor sits in the thread's Asio reactor like any other; when it turns readable
// the thread takes every event at once and hands the woken coroutines over in its batch.
#include <corio/detail/ready_slot.hpp>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <atomic>

namespace corio::detail {

class ready_poller {
public:
  explicit ready_poller(asio::io_context& ctx); // throws io_error if no epoll instance
  ready_poller(const ready_poller&) = delete;
  ready_poller& operator=(const ready_poller&) = delete;
  ~ready_poller();

  // Takes ownership of the non-blocking descriptor fd (not registered until a wait needs it).
  ready_slot* add(int fd);
  int epoll_fd() const noexcept { return epfd_; }

  // Before the thread runs: start listening. After it stopped for good: retire frees at once.
  void start();
  void stopped() noexcept { stopped_.store(true, std::memory_order_release); }
  void retire(ready_slot* s) noexcept;

private:
  void wait();
  void harvest() noexcept;

  asio::io_context& ctx_;
  int epfd_;
  asio::posix::stream_descriptor desc_; // a duplicate of epfd_, watched by the reactor
  std::atomic<bool> stopped_{false};
};

} // namespace corio::detail
