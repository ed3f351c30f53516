// The echo workload's servers: corio's (the same code as examples/echo_server) and the baseline,
// plain Asio with C++20 coroutines and one io_context per thread. Prints "port <n>" when ready,
// serves until killed.
//   bench_echo_server --impl corio|asio [--threads N] [--io-threads N] [--port 0]
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

namespace {

corio::task<void> echo_corio(corio::stream_reader reader, corio::stream_writer writer) {
  try {
    for (;;) {
      auto data = co_await reader.read(64 * 1024);
      if (data.empty()) break;
      writer.write(data);
      co_await writer.drain();
    }
  } catch (const corio::io_error&) {
  }
}

corio::task<void> serve_corio(std::uint16_t port) {
  auto srv = co_await corio::start_server(echo_corio, "127.0.0.1", port);
  std::printf("port %u\n", srv.port());
  std::fflush(stdout);
  co_await srv.serve_forever();
}

asio::awaitable<void> echo_asio(asio::ip::tcp::socket s) {
  char buf[64 * 1024];
  try {
    for (;;) {
      std::size_t n = co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
      co_await asio::async_write(s, asio::buffer(buf, n), asio::use_awaitable);
    }
  } catch (const std::exception&) {
  }
}

// One acceptor on the first context; each accepted socket lives on the next context in turn,
// and each context is run by its own thread.
asio::awaitable<void> accept_asio(asio::ip::tcp::acceptor& a, std::vector<std::unique_ptr<asio::io_context>>& ctxs) {
  std::size_t next = 0;
  for (;;) {
    auto& ctx = *ctxs[next++ % ctxs.size()];
    auto s = co_await a.async_accept(ctx, asio::use_awaitable);
    s.set_option(asio::ip::tcp::no_delay(true));
    asio::co_spawn(ctx, echo_asio(std::move(s)), asio::detached);
  }
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  auto impl = a.get("impl", "corio");
  auto threads = static_cast<std::size_t>(a.num("threads", 1));
  auto port = static_cast<std::uint16_t>(a.num("port", 0));
  if (impl == "corio") {
    corio::run(serve_corio(port), {.workers = threads,
                                   .spin_before_park = std::chrono::microseconds(a.num("spin-us", 50)),
                                   .io_threads = static_cast<std::size_t>(a.num("io-threads", 1))});
  } else if (impl == "asio") {
    std::vector<std::unique_ptr<asio::io_context>> ctxs;
    for (std::size_t i = 0; i < threads; ++i) ctxs.push_back(std::make_unique<asio::io_context>(1));
    asio::ip::tcp::acceptor acceptor(*ctxs[0], {asio::ip::make_address("127.0.0.1"), port});
    std::printf("port %u\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    asio::co_spawn(*ctxs[0], accept_asio(acceptor, ctxs), asio::detached);
    std::vector<std::thread> ts;
    for (std::size_t i = 1; i < threads; ++i) ts.emplace_back([&, i] {
      auto guard = asio::make_work_guard(*ctxs[i]);
      ctxs[i]->run();
    });
    auto guard = asio::make_work_guard(*ctxs[0]);
    ctxs[0]->run();
  } else {
    bench::fail("unknown --impl " + impl);
  }
}
