// Readiness waits (io/src/ready_poller.cpp): one-shot registrations, a reader and a writer
// parked on one socket at once, wake-ups by close, many idle connections.
#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::task<corio::server> serve(corio::connection_handler handler) {
  co_return co_await corio::start_server(std::move(handler), "127.0.0.1", 0);
}

} // namespace

TEST_CASE("ready_poller: a reader parked on a quiet socket wakes with EOF when its stream is closed", "[stream][readiness]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    corio::connection_handler quiet = [](corio::stream_reader r, corio::stream_writer) -> corio::task<void> {
      co_await r.read(); // the client never writes; ends when the client goes
    };
    auto srv = co_await serve(std::move(quiet));
    auto conn = co_await corio::open_connection("127.0.0.1", srv.port());
    auto& r = conn.first;
    auto& w = conn.second;
    auto reader = [&]() -> corio::task<std::string> { co_return co_await r.read(100); };
    auto h = corio::create_task(reader());
    co_await corio::sleep(50ms);
    bool parked = !h.done();
    w.close(); // closes the socket under the parked read
    std::string got = co_await h;
    srv.close();
    co_await srv.wait_closed();
    co_return parked && got.empty() && r.at_eof();
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("ready_poller: a reader and a blocked writer parked on one socket both get through", "[stream][readiness]") {
  // The client's writer is blocked (the server does not read yet) while its reader waits for the
  // server's reply: one registration serves both directions, and whichever event comes first
  // must not leave the other waiter unwatched.
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    auto go = std::make_shared<std::atomic<bool>>(false);
    corio::connection_handler late = [go](corio::stream_reader r, corio::stream_writer w) -> corio::task<void> {
      while (!go->load()) co_await corio::sleep(5ms);
      w.write("reply\n"); // first answer, then consume everything
      co_await w.drain();
      std::size_t total = 0;
      for (;;) {
        auto chunk = co_await r.read(65536);
        if (chunk.empty()) break;
        total += chunk.size();
      }
      w.write(std::to_string(total) + "\n");
      co_await w.drain();
    };
    auto srv = co_await serve(std::move(late));
    auto conn = co_await corio::open_connection("127.0.0.1", srv.port());
    auto& r = conn.first;
    auto& w = conn.second;
    const std::size_t total = 8u << 20; // far more than the socket buffers hold
    auto writer = [&]() -> corio::task<void> {
      const std::string chunk(64 * 1024, 'x');
      for (std::size_t sent = 0; sent < total; sent += chunk.size()) {
        w.write(chunk);
        co_await w.drain();
      }
      w.write_eof();
    };
    auto reader = [&]() -> corio::task<std::string> { co_return co_await r.readline(); };
    auto wh = corio::create_task(writer());
    auto rh = corio::create_task(reader());
    co_await corio::sleep(100ms);
    bool both_parked = !wh.done() && !rh.done();
    go->store(true);
    std::string first = co_await rh;
    co_await wh;
    std::string count = co_await r.readline();
    srv.close();
    co_await srv.wait_closed();
    co_return both_parked && first == "reply\n" && count == std::to_string(total) + "\n";
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("ready_poller: many idle connections, a few busy ones: every request is answered", "[stream][readiness]") {
  corio::runtime rt({.workers = 2});
  const int idle = corio_test::sanitized() ? 50 : 300;
  auto body = [idle]() -> corio::task<bool> {
    corio::connection_handler echo = [](corio::stream_reader r, corio::stream_writer w) -> corio::task<void> {
      for (;;) {
        auto line = co_await r.readline();
        if (line.empty()) co_return;
        w.write(line);
      }
    };
    auto srv = co_await serve(std::move(echo));
    std::vector<std::pair<corio::stream_reader, corio::stream_writer>> quiet;
    for (int i = 0; i < idle; ++i) quiet.push_back(co_await corio::open_connection("127.0.0.1", srv.port()));
    auto client = [](std::uint16_t port, int id) -> corio::task<bool> {
      auto conn = co_await corio::open_connection("127.0.0.1", port);
      auto& r = conn.first;
      auto& w = conn.second;
      for (int i = 0; i < 500; ++i) {
        auto msg = std::to_string(id) + ":" + std::to_string(i) + "\n";
        w.write(msg);
        if (co_await r.readline() != msg) co_return false;
      }
      co_return true;
    };
    std::vector<corio::task<bool>> busy;
    for (int i = 0; i < 8; ++i) busy.push_back(client(srv.port(), i));
    auto results = co_await corio::gather(std::move(busy));
    bool ok = std::all_of(results.begin(), results.end(), [](bool b) { return b; });
    // The idle ones still work after all that.
    for (auto& [r, w] : quiet) w.write("late\n");
    for (auto& [r, w] : quiet) ok = ok && co_await r.readline() == "late\n";
    quiet.clear();
    srv.close();
    co_await srv.wait_closed();
    co_return ok;
  };
  REQUIRE(rt.block_on(body()));
}
