#pragma once
// corio::start_server (asyncio.start_server): accept TCP connections and run a handler for each.
//
//   auto srv = co_await corio::start_server(
//       [](corio::stream_reader r, corio::stream_writer w) -> corio::task<void> {
//         while (auto line = co_await r.readline(); !line.empty()) w.write(line);
//       },
//       "127.0.0.1", 8888);
//   fmt::print("serving on port {}\n", srv.port());   // port 0 picks a free one
//   co_await srv.serve_forever();                      // until srv.close()
//
// Each connection runs its handler as its own task, on any worker. When the handler returns
// and drops its reader and writer, the connection is closed. An exception escaping a handler is
// reported through the unhandled-exception handler and affects no other connection.
// close() stops accepting; connections in progress continue (close_clients() closes them too);
// wait_closed() returns once the server is closed and every handler has finished.
#include <corio/open_connection.hpp>
#include <corio/stream_reader.hpp>
#include <corio/stream_writer.hpp>
#include <corio/task.hpp>

#include <asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace corio {

namespace detail {
struct server_state;
}

using connection_handler = std::function<task<void>(stream_reader, stream_writer)>;

struct server_options {
  int backlog = 1024;     // pending connections the kernel keeps (asyncio: 100)
  bool reuse_address = true;
  stream_options streams; // limit and water marks of every accepted connection
};

class server {
public:
  server() = default;
  explicit server(std::shared_ptr<detail::server_state> s) noexcept : s_(std::move(s)) {}

  // The port of the first listening socket (the one picked when asked for port 0).
  std::uint16_t port() const;
  std::vector<asio::ip::tcp::endpoint> sockets() const;
  bool is_serving() const;
  // Waits until close() is called (from any task).
  task<void> serve_forever();
  // Stops accepting new connections. Idempotent.
  void close();
  // Closes every open connection (their handlers' reads see end of stream).
  void close_clients();
  // Waits until the server is closed and all connection handlers have returned.
  task<void> wait_closed();
  std::size_t active_connections() const;

private:
  std::shared_ptr<detail::server_state> s_;
};

// Resolves host (passively: "" or "0.0.0.0" for every interface, "::" for IPv6), listens on
// every address it yields, and starts accepting. Throws io_error (address in use, permission
// denied, host not found).
task<server> start_server(connection_handler handler, std::string host, std::uint16_t port,
                          server_options options = {});

} // namespace corio
