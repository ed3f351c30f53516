#pragma once
// Internal: the awaiters behind a connection's reads and drain. Each tries the work first in
// await_ready and suspends only if it must, so the common case costs no coroutine frame.
// Constructors (not aggregates) on purpose: see io/README.md on the GCC 12 pitfall.
#include <corio/detail/connection.hpp>
#include <corio/detail/locked_start.hpp>
#include <corio/io_errors.hpp>
#include <corio/use_task.hpp>
#include <corio/yield.hpp>

#include <optional>

namespace corio::detail {

class connection::fill_awaiter {
public:
  explicit fill_awaiter(connection& c) : c_(c) {}

  bool await_ready() {
    // Right after writing a request's answer the peer cannot have replied yet (the answer is
    // only sent when this step ends): do not waste a recv finding that out.
    if (c_.send_pending()) return false;
    first_ = c_.try_fill();
    if (first_ == fill_result::data) c_.read_yielded_ = false;
    return first_ != fill_result::would_block;
  }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if (!c_.read_yielded_ && c_.yield_score_ >= 0 && worker_has_other_work()) {
      // Other tasks are ready: run them first and look again afterwards, as a single-threaded
      // event loop would. Under load the data has usually arrived by then, and the read costs
      // no readiness registration and no trip through the I/O thread.
      c_.read_yielded_ = true;
      yielded_ = true;
      return yield_to_worker(h);
    }
    c_.read_yielded_ = false;
    if (c_.yield_score_ < 0) ++c_.yield_score_; // try yielding again now and then
    if (c_.slot_) {
      // Wait for readiness only; the read happens on the worker when we resume. Arming the wait
      // checks the socket's current state, so nothing that arrived since try_fill is missed.
      wait_.emplace(*c_.slot_, ready_slot::read);
      return wait_->await_suspend(h);
    }
    auto keep = c_.shared_from_this();
    // Completion mode: Asio waits and performs the read on the I/O thread (its speculative retry
    // runs under the descriptor lock).
    char* dst = c_.rbuf_.prepare(1);
    read_.emplace(keep, c_.mu_, c_.closed_, c_.sock_.async_read_some(asio::buffer(dst, c_.rbuf_.room()), use_task));
    return read_->await_suspend(h);
  }

  fill_result await_resume() {
    if (yielded_) {
      fill_result r = c_.try_fill();
      if (r == fill_result::data) {
        c_.read_yielded_ = false;
        if (c_.yield_score_ < 8) ++c_.yield_score_;
      } else if (c_.yield_score_ > -8) {
        c_.yield_score_ -= 2;
      }
      return r;
    }
    if (wait_) {
      try {
        wait_->await_resume();
      } catch (const io_error& e) {
        return c_.fill_failed(e.code());
      }
      return c_.try_fill();
    }
    if (read_) {
      std::size_t n = 0;
      try {
        n = read_->await_resume();
      } catch (const io_error& e) {
        return c_.fill_failed(e.code());
      }
      c_.rbuf_.commit(n);
      return fill_result::data;
    }
    return first_;
  }

private:
  using read_op = decltype(std::declval<asio::ip::tcp::socket&>().async_read_some(asio::mutable_buffer(), use_task));
  connection& c_;
  fill_result first_ = fill_result::would_block;
  bool yielded_ = false;
  std::optional<ready_wait> wait_;
  std::optional<locked_start<connection, read_op>> read_;
};

inline connection::fill_awaiter connection::fill() { return fill_awaiter(*this); }

class connection::drain_awaiter {
public:
  explicit drain_awaiter(std::shared_ptr<connection> c)
      : c_(std::move(c)), park_(c_->mu_, c_->drain_waiters_, &drained, c_.get()) {}

  bool await_ready() {
    std::lock_guard lock(c_->mu_);
    return !c_->drain_needed_locked();
  }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return park_.await_suspend(h); // parks unless drained meanwhile
  }
  void await_resume() {
    park_.await_resume(); // cancelled_error if cancelled while parked: the data stays queued
    std::lock_guard lock(c_->mu_);
    if (c_->write_error_) throw io_error(c_->write_error_);
  }

private:
  static bool drained(const void* c) { return !static_cast<const connection*>(c)->drain_needed_locked(); }
  std::shared_ptr<connection> c_;
  parked_wait park_;
};

inline connection::drain_awaiter connection::drain() { return drain_awaiter(shared_from_this()); }

} // namespace corio::detail
