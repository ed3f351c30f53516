#pragma once
// Internal: the state one TCP connection's stream_reader and stream_writer share.
//
// Threading: the reader may run on one worker while the writer runs on another. Every call on
// the socket object from a worker (a non-blocking recv/send, starting an Asio wait, closing)
// happens under mu_, so a close can never race an operation on the same fd (and never lets a
// recycled fd number be read by mistake). The I/O thread only ever touches Asio's internal
// per-descriptor state, which Asio locks itself. mu_ is never held across a suspension.
#include <corio/detail/parked_wait.hpp>
#include <corio/detail/ready_slot.hpp>
#include <corio/scheduler.hpp>
#include <corio/task.hpp>

#include <asio/ip/tcp.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace corio {
struct stream_options;
}

namespace corio::detail {

// A contiguous buffer read from the front and appended at the back, without zero-filling.
class byte_buffer {
public:
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  const char* data() const noexcept { return data_.get() + begin_; }
  std::string_view view() const noexcept { return {data(), size()}; }
  std::string take(std::size_t n) {
    std::string s(data(), n);
    consume(n);
    return s;
  }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Room for at least n more bytes at the back.
  char* prepare(std::size_t n);
  void commit(std::size_t n) noexcept { end_ += n; }
  std::size_t room() const noexcept { return cap_ - end_; }
  void append(std::string_view s) {
    std::memcpy(prepare(s.size()), s.data(), s.size());
    commit(s.size());
  }
  void clear() noexcept { begin_ = end_ = 0; }
  void swap(byte_buffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(cap_, o.cap_);
    std::swap(begin_, o.begin_);
    std::swap(end_, o.end_);
  }

private:
  std::unique_ptr<char[]> data_;
  std::size_t cap_ = 0, begin_ = 0, end_ = 0;
};


class connection : public std::enable_shared_from_this<connection> {
public:
  struct options {
    std::size_t limit = 64 * 1024;       // reader: longest line / separated chunk
    std::size_t high_water = 64 * 1024;  // writer: drain() waits above this...
    std::size_t low_water = 16 * 1024;   // ...until the buffer is back down to this
    // Where to wait for readiness (the I/O thread only reports it; workers do every recv and
    // send). Null: let Asio perform reads and blocked writes on its context instead (an
    // application's own io_context, or CORIO_IO_MODE=completion).
    ready_poller* poller = nullptr;
    static options from(const stream_options& o) noexcept;
  };

  connection(asio::ip::tcp::socket socket, scheduler& s, options opts);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // --- reading (one reader at a time) ---------------------------------------------------------
  enum class fill_result { data, eof, would_block };
  // Reads what has arrived into rbuf_ without waiting. Throws io_error (e.g. reset).
  fill_result try_fill();
  // Awaitable: like try_fill, but when nothing is there it waits (for readiness, or for Asio's
  // read on the I/O thread; a close wakes it too). May still yield would_block after a wait: callers loop.
  class fill_awaiter;
  fill_awaiter fill();
  byte_buffer rbuf_;
  bool eof_ = false;
  bool reading_ = false; // a read is in progress (asyncio forbids two concurrent readers)
  bool read_yielded_ = false; // the reader yielded once hoping data would arrive meanwhile
  // How well yielding worked lately: +1 when data was there after the yield, -1 when not. The
  // reader yields only while it pays (a busy server); otherwise it registers with the reactor.
  int yield_score_ = 0;
  std::size_t limit() const noexcept { return opts_.limit; }

  // --- writing ----------------------------------------------------------------------------------
  std::size_t write(std::string_view data);
  class drain_awaiter;
  drain_awaiter drain();
  void write_eof();
  void close();
  void abort();
  task<void> wait_closed();
  bool is_closing();
  std::size_t buffered();

  // --- both -------------------------------------------------------------------------------------
  asio::ip::tcp::endpoint peer() const noexcept { return peer_; }
  asio::ip::tcp::endpoint local() const noexcept { return local_; }
  scheduler& sched() noexcept { return *sched_; }

private:
  fill_result fill_failed(const std::error_code& ec); // eof for a local close/end, else throws
  bool drain_needed_locked() const noexcept;
  bool send_pending() noexcept; // bytes written this step, not yet handed to the kernel

  static task<void> flush(std::shared_ptr<connection> self);
  static void flush_after_step(void* self) noexcept;
  void close_locked();
  void wake(std::vector<conn_waiter>& ws);
  void start_flush_locked();
  bool send_now_locked();
  // Non-blocking send on the descriptor; under mu_, not closed_.
  std::size_t send_locked(const char* p, std::size_t n, std::error_code& ec) noexcept;
  void shutdown_send_locked() noexcept;

  std::mutex mu_;
  asio::ip::tcp::socket sock_; // completion mode only (no poller); released to slot_ otherwise
  ready_slot* slot_ = nullptr; // readiness mode: owns the descriptor; retired by ~connection
  int fd_ = -1;                // the descriptor, for recv/send; valid while !closed_
  scheduler* sched_;
  options opts_;
  asio::ip::tcp::endpoint peer_, local_;

  byte_buffer wbuf_;            // waiting to be sent; under mu_
  std::size_t in_flight_ = 0;   // taken by the flusher, not yet sent; under mu_
  bool flushing_ = false;       // a flush task owns the send side; under mu_
  std::shared_ptr<connection> flush_keep_; // keeps us alive until the after-step flush; under mu_
  bool closing_ = false;        // close() was called; under mu_
  bool closed_ = false;         // the socket is closed; under mu_
  bool eof_sent_ = false;       // write_eof() done or pending; under mu_
  std::error_code write_error_; // why sending stopped (reset, broken pipe); under mu_
  std::vector<conn_waiter> drain_waiters_, close_waiters_; // under mu_
};

} // namespace corio::detail

#include <corio/detail/connection_awaiters.hpp>
