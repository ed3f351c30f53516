#include "ready_poller.hpp"

#include <corio/detail/io_resume.hpp>

#include <asio/error.hpp>
#include <asio/post.hpp>

#include <memory>
#include <utility>

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace corio::detail {

namespace {

std::error_code last_error() noexcept { return {errno, asio::error::get_system_category()}; }

constexpr std::uint32_t read_events = EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP;
constexpr std::uint32_t write_events = EPOLLOUT | EPOLLERR | EPOLLHUP;

int make_epoll() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw io_error(last_error());
  return fd;
}

int duplicate(int fd) {
  int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) {
    auto ec = last_error();
    ::close(fd);
    throw io_error(ec);
  }
  return d;
}

} // namespace

// --- the slot -----------------------------------------------------------------------------------

bool ready_slot::arm_locked(std::error_code& ec) noexcept {
  epoll_event ev{};
  if (waiters_[read].h) ev.events |= EPOLLIN | EPOLLRDHUP;
  if (waiters_[write].h) ev.events |= EPOLLOUT;
  if (!ev.events) return true;
  // One-shot: after reporting once the descriptor stays quiet until the next wait re-arms it.
  // Arming checks the current state, so readiness that came before the wait is reported too.
  ev.events |= EPOLLONESHOT;
  ev.data.ptr = this;
  if (::epoll_ctl(poller_.epoll_fd(), registered_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd_, &ev) != 0) {
    ec = last_error();
    return false;
  }
  registered_ = true;
  return true;
}

bool ready_slot::park(direction d, std::coroutine_handle<> h, scheduler* s, std::error_code& ec) noexcept {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  waiter before = std::exchange(waiters_[d], waiter{h, s});
  if (!arm_locked(ec)) {
    waiters_[d] = before;
    return false;
  }
  return true;
}

bool ready_slot::withdraw(direction d, std::coroutine_handle<> h) noexcept {
  std::lock_guard lock(mu_);
  if (waiters_[d].h != h) return false;
  waiters_[d] = {};
  // The registration may stay armed for it: an event then finds nobody (or wakes the other
  // direction's waiter spuriously, which its loop tolerates) and re-arms for who is left.
  return true;
}

void ready_slot::close() noexcept {
  std::lock_guard lock(mu_);
  if (closed_) return;
  closed_ = true;
  if (registered_) ::epoll_ctl(poller_.epoll_fd(), EPOLL_CTL_DEL, fd_, nullptr);
  ::close(fd_);
  for (auto& w : waiters_) {
    if (w.h) w.sched->schedule(w.h); // they look again and find the stream closed
    w = {};
  }
}

void ready_slot::on_event(std::uint32_t events) noexcept {
  waiter woken[2];
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (waiters_[read].h && (events & read_events)) woken[read] = std::exchange(waiters_[read], {});
    if (waiters_[write].h && (events & write_events)) woken[write] = std::exchange(waiters_[write], {});
    std::error_code ec;
    if (!arm_locked(ec)) { // whoever is left cannot be watched: let it look (and fail) itself
      for (int d = 0; d < 2; ++d)
        if (waiters_[d].h) woken[d] = std::exchange(waiters_[d], {});
    }
  }
  for (auto& w : woken)
    if (w.h) resume_from_io(*w.sched, w.h);
}

void ready_slot::retire(ready_slot* s) noexcept {
  s->close();
  s->poller_.retire(s);
}

// --- the poller ---------------------------------------------------------------------------------

ready_poller::ready_poller(asio::io_context& ctx) : ctx_(ctx), epfd_(make_epoll()), desc_(ctx, duplicate(epfd_)) {}

ready_poller::~ready_poller() {
  std::error_code ec;
  desc_.close(ec);
  ::close(epfd_);
}

ready_slot* ready_poller::add(int fd) {
  try {
    return new ready_slot(*this, fd);
  } catch (...) {
    ::close(fd);
    throw;
  }
}

void ready_poller::start() { wait(); }

void ready_poller::wait() {
  desc_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const std::error_code& ec) {
    if (ec) return; // closed: the thread is going away
    harvest();
    wait();
  });
}

void ready_poller::harvest() noexcept {
  epoll_event evs[256];
  for (;;) {
    int n = ::epoll_wait(epfd_, evs, 256, 0);
    for (int i = 0; i < n; ++i) static_cast<ready_slot*>(evs[i].data.ptr)->on_event(evs[i].events);
    if (n < 256) return;
  }
}

void ready_poller::retire(ready_slot* s) noexcept {
  if (stopped_.load(std::memory_order_acquire)) {
    delete s; // no round of the thread can be naming it any more
    return;
  }
  // Runs after the thread's current round: an event it took before close() is handled by then.
  // If the thread stops first, the io_context destroys the handler and with it the slot. (Asio
  // recycles handler memory, so this post does not allocate in the steady state; should it throw
  // anyway, the slot is freed with the handler, which is safe unless that very round names it.)
  try {
    asio::post(ctx_, [owned = std::unique_ptr<ready_slot>(s)] {});
  } catch (...) {
  }
}

} // namespace corio::detail
