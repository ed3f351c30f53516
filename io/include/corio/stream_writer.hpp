#pragma once
// corio::stream_writer (asyncio.StreamWriter): writes to a TCP connection.
//
//   writer.write("hello\n");          // buffered, never blocks
//   co_await writer.drain();          // back-pressure: waits while the peer is slow
//   writer.close();
//   co_await writer.wait_closed();
//
// write() appends to the connection's buffer; a flush task sends it after the caller's current
// step, so several writes made together leave in one send. drain() waits while more than the
// high-water mark (64 KiB) is buffered, until it is back to the low-water mark (16 KiB): a writer
// that outpaces its peer is held there and memory stays bounded. If the connection is lost
// (reset, broken pipe) or aborted, later writes are dropped and drain() throws io_error with the
// reason.
// close() sends what is buffered, then closes; abort() closes at once, dropping it;
// wait_closed() waits until the socket is closed. Callers resume on a
// worker. A write after close() or write_eof() throws invalid_state_error.
#include <corio/detail/connection.hpp>
#include <corio/task.hpp>

#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace corio {

namespace detail {
class connection;
}

class stream_writer {
public:
  stream_writer() = default;
  explicit stream_writer(std::shared_ptr<detail::connection> c) noexcept : c_(std::move(c)) {}

  // Returns how many bytes are now buffered (what buffered() would say), so a broadcaster can
  // bound a slow peer's outbox with one call.
  std::size_t write(std::string_view data);
  // An awaitable (not a task: it costs nothing when no wait is needed).
  detail::connection::drain_awaiter drain();
  // Closes the sending side once the buffer is sent (asyncio.StreamWriter.write_eof).
  void write_eof();
  bool can_write_eof() const noexcept { return true; }
  void close();
  // Closes at once, discarding what is buffered (asyncio's transport.abort()): for a peer that
  // stopped reading, where close() would wait for a flush that never ends.
  void abort();
  bool is_closing() const;
  task<void> wait_closed();
  // Bytes written but not yet handed to the kernel.
  std::size_t buffered() const;

  asio::ip::tcp::endpoint peername() const;
  asio::ip::tcp::endpoint sockname() const;
  // asyncio's get_extra_info for "peername" and "sockname", as "address:port"; nullopt otherwise.
  std::optional<std::string> get_extra_info(std::string_view name) const;
  bool valid() const noexcept { return static_cast<bool>(c_); }

private:
  std::shared_ptr<detail::connection> c_;
};

} // namespace corio
