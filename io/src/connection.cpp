#include <corio/create_task.hpp>
#include <corio/detail/connection.hpp>
#include <corio/detail/io_resume.hpp>
#include <corio/io_errors.hpp>
#include <corio/use_task.hpp>

#include <corio/detail/locked_start.hpp>

#include "ready_poller.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace corio::detail {

char* byte_buffer::prepare(std::size_t n) {
  if (cap_ - end_ >= n) return data_.get() + end_;
  std::size_t used = size();
  if (begin_ > 0 && cap_ - used >= n && used <= cap_ / 2) {
    // Enough room once the consumed front is reclaimed: slide the data down.
    std::memmove(data_.get(), data_.get() + begin_, used);
  } else {
    std::size_t cap = std::max<std::size_t>(cap_ * 2, 4096);
    while (cap - used < n) cap *= 2;
    auto bigger = std::make_unique<char[]>(cap);
    if (used) std::memcpy(bigger.get(), data_.get() + begin_, used);
    data_ = std::move(bigger);
    cap_ = cap;
  }
  begin_ = 0;
  end_ = used;
  return data_.get() + end_;
}

namespace {

bool is_would_block(const std::error_code& ec) noexcept {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// How much to read per recv: enough for many small messages at once, bounded so an idle
// connection's buffer stays small.
constexpr std::size_t read_chunk = 16 * 1024;

} // namespace

connection::connection(asio::ip::tcp::socket socket, scheduler& s, options opts)
    : sock_(std::move(socket)), sched_(&s), opts_(opts) {
  std::error_code ec;
  sock_.non_blocking(true, ec);
  sock_.set_option(asio::ip::tcp::no_delay(true), ec); // small request/response messages
  peer_ = sock_.remote_endpoint(ec);
  local_ = sock_.local_endpoint(ec);
  if (!opts_.poller) {
    fd_ = sock_.native_handle();
    return;
  }
  // Out of Asio's reactor (where it would wake the I/O thread for every segment) into ours.
  int fd = sock_.release(ec);
  if (ec) throw io_error(ec);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  slot_ = opts_.poller->add(fd);
  fd_ = fd;
}

connection::~connection() {
  if (slot_) {
    ready_slot::retire(slot_); // closes the descriptor if close() did not
  } else {
    std::error_code ec;
    sock_.close(ec);
  }
}

std::size_t connection::send_locked(const char* p, std::size_t n, std::error_code& ec) noexcept {
  for (;;) {
    ssize_t r = ::send(fd_, p, n, MSG_NOSIGNAL);
    if (r >= 0) return static_cast<std::size_t>(r);
    if (errno == EINTR) continue;
    ec = std::error_code(errno, asio::error::get_system_category());
    return 0;
  }
}

void connection::shutdown_send_locked() noexcept { ::shutdown(fd_, SHUT_WR); }

// --- reading ------------------------------------------------------------------------------------

connection::fill_result connection::try_fill() {
  std::error_code ec;
  std::size_t n = 0;
  char* dst = rbuf_.prepare(read_chunk);
  {
    std::lock_guard lock(mu_);
    if (closed_) { // closed locally: the stream simply ends
      eof_ = true;
      return fill_result::eof;
    }
    // Workers read themselves: often the data is already there and the I/O thread is not
    // involved at all.
    for (;;) {
      ssize_t r = ::recv(fd_, dst, rbuf_.room(), 0);
      if (r > 0) {
        n = static_cast<std::size_t>(r);
      } else if (r == 0) {
        ec = asio::error::eof;
      } else if (errno == EINTR) {
        continue;
      } else {
        ec = std::error_code(errno, asio::error::get_system_category());
      }
      break;
    }
  }
  if (!ec) {
    rbuf_.commit(n);
    return fill_result::data;
  }
  if (is_would_block(ec)) return fill_result::would_block;
  return fill_failed(ec);
}

connection::fill_result connection::fill_failed(const std::error_code& ec) {
  if (ec == asio::error::eof || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
    eof_ = true;
    return fill_result::eof;
  }
  throw io_error(ec);
}

// --- writing ------------------------------------------------------------------------------------

std::size_t connection::write(std::string_view data) {
  std::lock_guard lock(mu_);
  if (closing_ || eof_sent_) throw invalid_state_error("corio: write() after close() or write_eof()");
  if (write_error_) return 0; // lost or aborted: dropped; drain() reports why
  if (!data.empty()) {
    wbuf_.append(data);
    start_flush_locked();
  }
  return wbuf_.size() + in_flight_;
}

void connection::start_flush_locked() {
  if (flushing_ || flush_keep_) return; // a pending send picks the new bytes up too
  // Send at the end of the worker's turn: everything written to this connection meanwhile (a
  // response in pieces, the lines of many broadcasts) leaves in one send.
  flush_keep_ = shared_from_this();
  if (scheduler::current() == sched_ && defer_to_end_of_turn(&connection::flush_after_step, this)) return;
  flush_keep_.reset(); // not on one of our workers: a flush task does it
  flushing_ = true;
  sched_->spawn(flush(shared_from_this())).detach();
}

// Tries to send everything buffered without waiting. True if the caller needs a flush task
// (the kernel buffer is full).
bool connection::send_now_locked() {
  while (!wbuf_.empty() && !write_error_ && !closed_) {
    std::error_code ec;
    std::size_t n = send_locked(wbuf_.data(), wbuf_.size(), ec);
    if (is_would_block(ec)) return true;
    if (ec) {
      write_error_ = ec;
      wbuf_.clear();
      break;
    }
    wbuf_.consume(n);
  }
  if (write_error_) wbuf_.clear();
  if (wbuf_.size() <= opts_.low_water) wake(drain_waiters_);
  return false;
}

void connection::flush_after_step(void* p) noexcept {
  auto* c = static_cast<connection*>(p);
  std::shared_ptr<connection> self; // declared before the lock: released after the unlock
  std::lock_guard lock(c->mu_);
  self = std::move(c->flush_keep_);
  if (c->flushing_) return;
  if (c->send_now_locked()) {
    c->flushing_ = true;
    try {
      create_task(never_cancelled(flush(self))).detach(); // others' writes depend on it
      return;
    } catch (...) {
      c->flushing_ = false;
      c->write_error_ = std::make_error_code(std::errc::not_enough_memory);
      c->wbuf_.clear();
      c->wake(c->drain_waiters_);
    }
  }
  if (c->eof_sent_ && !c->closed_ && !c->write_error_) c->shutdown_send_locked();
  if (c->closing_) c->close_locked();
}

task<void> connection::flush(std::shared_ptr<connection> self) {
  byte_buffer sending;
  for (;;) {
    {
      std::lock_guard lock(self->mu_);
      self->in_flight_ = 0;
      if (self->wbuf_.empty() || self->write_error_ || self->closed_) {
        self->flushing_ = false;
        if (self->write_error_) self->wbuf_.clear();
        if (self->eof_sent_ && !self->closed_ && !self->write_error_) self->shutdown_send_locked();
        if (self->closing_) self->close_locked();
        self->wake(self->drain_waiters_);
        co_return;
      }
      sending.swap(self->wbuf_);
      self->in_flight_ = sending.size();
      if (self->wbuf_.size() + self->in_flight_ <= self->opts_.low_water) self->wake(self->drain_waiters_);
    }
    while (!sending.empty()) {
      std::error_code ec;
      std::size_t n = 0;
      {
        std::lock_guard lock(self->mu_);
        if (self->closed_) {
          ec = asio::error::operation_aborted;
        } else {
          n = self->send_locked(sending.data(), sending.size(), ec);
        }
      }
      if (is_would_block(ec) && self->slot_) {
        // The peer is not reading fast enough: wait until the kernel takes more, then retry.
        ec = {};
        try {
          co_await ready_wait(*self->slot_, ready_slot::write);
        } catch (const io_error& e) {
          ec = e.code();
        }
        if (!ec) continue; // looks at closed_ first
      } else if (is_would_block(ec)) {
        // Completion mode: Asio waits for writability and sends the rest (its speculative retry
        // under the descriptor lock cannot miss the moment it frees up).
        ec = {};
        try {
          n = co_await locked_start{self, self->mu_, self->closed_,
                                    self->sock_.async_write_some(asio::buffer(sending.data(), sending.size()), use_task)};
        } catch (const io_error& e) {
          ec = e.code();
        }
      }
      if (ec) {
        std::lock_guard lock(self->mu_);
        self->write_error_ = ec;
        sending.clear();
        break;
      }
      sending.consume(n);
      std::lock_guard lock(self->mu_);
      self->in_flight_ = sending.size();
      if (self->wbuf_.size() + self->in_flight_ <= self->opts_.low_water) self->wake(self->drain_waiters_);
    }
  }
}

std::size_t connection::buffered() {
  std::lock_guard lock(mu_);
  return wbuf_.size() + in_flight_;
}


bool connection::send_pending() noexcept {
  std::lock_guard lock(mu_);
  return flush_keep_ != nullptr && !wbuf_.empty();
}

bool connection::drain_needed_locked() const noexcept {
  return !write_error_ && !closed_ && wbuf_.size() + in_flight_ > opts_.high_water;
}

void connection::write_eof() {
  std::lock_guard lock(mu_);
  if (eof_sent_ || closed_) return;
  eof_sent_ = true;
  if (!flushing_ && !flush_keep_) shutdown_send_locked();
}

void connection::close() {
  std::lock_guard lock(mu_);
  if (closing_) return;
  closing_ = true;
  if (!flushing_ && !flush_keep_) close_locked(); // otherwise the pending send closes after it
}

void connection::abort() {
  std::lock_guard lock(mu_);
  // Not closing_: that marks the owner's own close(), after which writing is a bug; writes
  // after an abort (often made by another task) are dropped instead.
  if (!write_error_) write_error_ = asio::error::operation_aborted; // later writes are dropped
  wbuf_.clear(); // discarded; a flush in progress fails with operation_aborted and stops
  if (!closed_) {
    // Drop what the kernel still holds too and reset the connection: a peer that stopped
    // reading would otherwise keep it (and its send buffer) alive indefinitely.
    ::linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  close_locked();
}

void connection::close_locked() {
  if (closed_) return;
  closed_ = true;
  if (slot_) {
    slot_->close(); // parked reads and writes wake up and find closed_
  } else {
    std::error_code ec;
    sock_.close(ec); // pending reads and writes complete with operation_aborted
  }
  wake(drain_waiters_);
  wake(close_waiters_);
}

void connection::wake(std::vector<conn_waiter>& ws) { wake_parked(ws); }

bool connection::is_closing() {
  std::lock_guard lock(mu_);
  return closing_ || closed_;
}

task<void> connection::wait_closed() {
  auto self = shared_from_this();
  auto closed = [](const void* c) { return static_cast<const connection*>(c)->closed_; };
  co_await parked_wait(mu_, close_waiters_, closed, this);
}

} // namespace corio::detail
