#pragma once
// corio::stream_reader (asyncio.StreamReader): reads from a TCP connection opened with
// open_connection or accepted by start_server.
//
//   auto [reader, writer] = co_await corio::open_connection("example.com", 80);
//   std::string line = co_await reader.readline();       // "...\n", or "" at end of stream
//   std::string header = co_await reader.readuntil("\r\n\r\n");
//   std::string body = co_await reader.readexactly(length);
//
// Every read resumes the caller on a worker. Bytes already received are kept in the reader's
// buffer, so a read that fails (limit, end of stream) or, later, is cancelled loses nothing that
// arrived. One read at a time: a second concurrent read throws invalid_state_error. Errors are
// typed: io_error (connection reset, ...), limit_overrun_error (a line longer than limit(),
// 64 KiB by default), incomplete_read_error (the stream ended first, with the partial data).
#include <corio/task.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace corio {

namespace detail {
class connection;
}

class stream_reader {
public:
  stream_reader() = default;
  explicit stream_reader(std::shared_ptr<detail::connection> c) noexcept : c_(std::move(c)) {}

  // Up to n bytes (n < 0: everything until end of stream). Waits for at least one byte;
  // returns "" at end of stream (asyncio.StreamReader.read).
  task<std::string> read(std::ptrdiff_t n = -1);
  // Up to and including the next "\n"; at end of stream, what is left (maybe ""). A line longer
  // than limit() throws limit_overrun_error after discarding it, so the next read starts after it.
  task<std::string> readline();
  // Exactly n bytes, or incomplete_read_error with what arrived before the stream ended.
  task<std::string> readexactly(std::size_t n);
  // Up to and including `separator`; incomplete_read_error at end of stream; limit_overrun_error
  // (leaving the data in the buffer) when limit() bytes arrive without it.
  task<std::string> readuntil(std::string separator = "\n");
  // True once the peer closed its side and the buffer is empty.
  bool at_eof() const noexcept;
  std::size_t limit() const noexcept;
  bool valid() const noexcept { return static_cast<bool>(c_); }

private:
  std::shared_ptr<detail::connection> c_;
};

} // namespace corio
