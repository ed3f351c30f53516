// A chat client: sends each line typed on stdin, prints every line that arrives.
//   chat_client [--host 127.0.0.1] [--port 8888]
// Reading stdin blocks, so a plain thread does it and hands lines to the connection's writer
// (write() is thread-safe); the runtime's workers only print what arrives.
#include "example_support.hpp"

#include <corio/corio.hpp>

#include <iostream>
#include <string>
#include <thread>

corio::task<void> amain(std::string host, std::uint16_t port) {
  auto [reader, writer] = co_await corio::open_connection(host, port);
  example::say("Connected to {}:{}; type lines, Ctrl-D to quit", host, port);
  std::thread input([w = writer]() mutable {
    std::string line;
    while (std::getline(std::cin, line)) w.write(line + "\n");
    w.write_eof();
  });
  input.detach(); // it ends with stdin; the process may end first when the server goes away
  for (;;) {
    auto line = co_await reader.readline();
    if (line.empty()) break;
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
  example::say("Server closed the connection");
}

int main(int argc, char** argv) {
  example::options o(argc, argv);
  try {
    corio::run(amain(o.get("host", "127.0.0.1"), static_cast<std::uint16_t>(o.num("port", 8888))));
  } catch (const corio::io_error& e) {
    fmt::print(stderr, "chat_client: {}\n", e.what());
    return 1;
  }
}
