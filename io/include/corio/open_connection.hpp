#pragma once
// corio::open_connection (asyncio.open_connection): connect to a TCP server.
//
//   auto [reader, writer] = co_await corio::open_connection("example.com", 80);
//   writer.write("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
//   auto status = co_await reader.readline();
//
// The host name is resolved with Asio's resolver (off the workers); each address is tried in
// turn. Throws io_error: host not found, connection refused, network unreachable, timed out.
// Must be awaited inside a corio::runtime.
#include <corio/stream_reader.hpp>
#include <corio/stream_writer.hpp>
#include <corio/task.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace corio {

struct stream_options {
  std::size_t limit = 64 * 1024;      // reader: longest line or separated chunk
  std::size_t high_water = 64 * 1024; // writer: drain() waits above this...
  std::size_t low_water = 16 * 1024;  // ...until the buffer is back down to this
};

task<std::pair<stream_reader, stream_writer>> open_connection(std::string host, std::uint16_t port,
                                                              stream_options options = {});

} // namespace corio
