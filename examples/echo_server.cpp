// An echo server: every byte received is sent back. For people to play with (nc 127.0.0.1 8888)
// and for tools/bench's echo workload.
//   echo_server [--host 127.0.0.1] [--port 8888] [--workers N] [--io-threads N]
#include "example_support.hpp"
#include "serve_until_signal.hpp"

#include <corio/corio.hpp>

corio::task<void> echo(corio::stream_reader reader, corio::stream_writer writer) {
  try {
    for (;;) {
      auto data = co_await reader.read(64 * 1024);
      if (data.empty()) break; // the client closed its side
      writer.write(data);
      co_await writer.drain();
    }
  } catch (const corio::io_error&) {
    // reset by the peer: nothing to answer
  }
}

corio::task<void> amain(std::string host, std::uint16_t port) {
  auto server = co_await corio::start_server(echo, host, port);
  example::say("Serving on {}:{}", host, server.port());
  co_await example::serve_until_signal(server);
}

int main(int argc, char** argv) {
  example::options o(argc, argv);
  corio::run(amain(o.get("host", "127.0.0.1"), static_cast<std::uint16_t>(o.num("port", 8888))),
             {.workers = static_cast<std::size_t>(o.num("workers", 0)),
              .io_threads = static_cast<std::size_t>(o.num("io-threads", 1))});
}
