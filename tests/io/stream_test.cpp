#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// A server that runs `handler` per connection; returns it after it is listening on a free port.
corio::task<corio::server> serve(corio::connection_handler handler, corio::server_options opts = {}) {
  co_return co_await corio::start_server(std::move(handler), "127.0.0.1", 0, opts);
}

corio::task<void> echo(corio::stream_reader r, corio::stream_writer w) {
  for (;;) {
    auto line = co_await r.readline();
    if (line.empty()) break;
    w.write(line);
    co_await w.drain();
  }
}

} // namespace

TEST_CASE("streams: echo over loopback with every reader method", "[stream]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    auto srv = co_await serve(echo);
    auto [r, w] = co_await corio::open_connection("127.0.0.1", srv.port());
    w.write("hello\n");
    w.write("wor");
    w.write("ld\n");
    bool ok = co_await r.readline() == "hello\n";
    ok = ok && co_await r.readuntil("ld\n") == "world\n";
    w.write("abcdef\nxyz\n");
    ok = ok && co_await r.readexactly(3) == "abc";
    ok = ok && co_await r.read(3) == "def";
    ok = ok && co_await r.readline() == "\n";
    ok = ok && co_await r.readline() == "xyz\n";
    w.write_eof(); // the server sees end of stream, returns, and the connection closes
    ok = ok && co_await r.read() == "";
    ok = ok && r.at_eof();
    ok = ok && w.get_extra_info("peername") == "127.0.0.1:" + std::to_string(srv.port());
    srv.close();
    co_await srv.wait_closed();
    co_return ok;
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("streams: connection refused and host not found are typed io_errors", "[stream][errors]") {
  corio::runtime rt({.workers = 1});
  auto body = []() -> corio::task<int> {
    int ok = 0;
    // A port nobody listens on: bind one, close it, connect to it.
    auto srv = co_await corio::start_server([](corio::stream_reader, corio::stream_writer) -> corio::task<void> { co_return; },
                                            "127.0.0.1", 0);
    auto port = srv.port();
    srv.close();
    co_await srv.wait_closed();
    try {
      co_await corio::open_connection("127.0.0.1", port);
    } catch (const corio::io_error& e) {
      ok += e.code() == asio::error::connection_refused;
    }
    try {
      co_await corio::open_connection("no-such-host.invalid", 80);
    } catch (const corio::io_error& e) {
      ok += e.code() == asio::error::host_not_found || e.code() == asio::error::host_not_found_try_again;
    }
    co_return ok;
  };
  REQUIRE(rt.block_on(body()) == 2);
}

TEST_CASE("streams: limit overrun and incomplete reads follow asyncio's contract", "[stream][errors]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    // The server sends: a 100-byte line (over a 64-byte limit), a normal line, then 3 bytes and EOF.
    auto srv = co_await serve([](corio::stream_reader, corio::stream_writer w) -> corio::task<void> {
      w.write(std::string(100, 'x') + "\nok\nabc");
      w.close();
      co_await w.wait_closed();
    });
    corio::stream_options small;
    small.limit = 64;
    auto [r, w] = co_await corio::open_connection("127.0.0.1", srv.port(), small);
    bool ok = true;
    try {
      co_await r.readline();
      ok = false;
    } catch (const corio::limit_overrun_error&) {
    }
    ok = ok && co_await r.readline() == "ok\n"; // the long line was dropped, the stream goes on
    try {
      co_await r.readexactly(10);
      ok = false;
    } catch (const corio::incomplete_read_error& e) {
      ok = ok && e.partial() == "abc" && e.expected() == 10u;
    }
    ok = ok && r.at_eof();
    co_return ok;
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("streams: readuntil keeps the data when the limit is hit; EOF gives the partial chunk", "[stream][errors]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    auto srv = co_await serve([](corio::stream_reader, corio::stream_writer w) -> corio::task<void> {
      w.write(std::string(80, 'y') + "END" + "tail");
      w.close();
      co_return;
    });
    corio::stream_options small;
    small.limit = 64;
    auto [r, w] = co_await corio::open_connection("127.0.0.1", srv.port(), small);
    bool ok = true;
    try {
      co_await r.readuntil("END");
      ok = false;
    } catch (const corio::limit_overrun_error& e) {
      ok = ok && e.consumed() >= 64;
    }
    // Nothing was consumed: the data is still there for a read that does not need the limit.
    ok = ok && (co_await r.readexactly(83)) == std::string(80, 'y') + "END";
    try {
      co_await r.readuntil("\n");
      ok = false;
    } catch (const corio::incomplete_read_error& e) {
      ok = ok && e.partial() == "tail" && !e.expected();
    }
    co_return ok;
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("streams: two concurrent reads on one reader are an invalid_state_error", "[stream][errors]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    auto srv = co_await serve([](corio::stream_reader r, corio::stream_writer) -> corio::task<void> { co_await r.read(); });
    auto [r, w] = co_await corio::open_connection("127.0.0.1", srv.port());
    auto first = corio::create_task(r.readline()); // waits: the server never writes
    co_await corio::sleep(20ms);
    bool threw = false;
    try {
      co_await r.readline();
    } catch (const corio::invalid_state_error&) {
      threw = true;
    }
    w.close(); // our end closes: the pending read sees end of stream
    auto rest = co_await first;
    co_return threw && rest.empty();
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("streams: a peer that resets mid-read gives io_error, not a crash", "[stream][errors]") {
  corio::runtime rt({.workers = 2});
  auto body = [](corio::runtime& rt) -> corio::task<bool> {
    // A raw Asio peer: accepts, sends a few bytes, then aborts the connection (RST).
    asio::ip::tcp::acceptor acceptor(rt.io_context(), {asio::ip::make_address("127.0.0.1"), 0});
    auto port = acceptor.local_endpoint().port();
    auto peer = [](asio::ip::tcp::acceptor& acceptor) -> corio::task<void> {
      auto s = co_await acceptor.async_accept(corio::use_task);
      co_await asio::async_write(s, asio::buffer(std::string("partial")), corio::use_task);
      co_await corio::sleep(20ms);
      s.set_option(asio::socket_base::linger(true, 0));
      s.close();
    };
    auto p = corio::create_task(peer(acceptor));
    auto [r, w] = co_await corio::open_connection("127.0.0.1", port);
    auto got = co_await r.readexactly(7);
    co_await p;
    bool reset = false;
    try {
      co_await r.read(100);
    } catch (const corio::io_error& e) {
      reset = e.code() == asio::error::connection_reset;
    }
    co_return got == "partial" && reset;
  };
  REQUIRE(rt.block_on(body(rt)));
}

TEST_CASE("server: an exception in one handler is reported and affects no other connection", "[server][errors]") {
  corio_test::captured_reports reports;
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    auto srv = co_await serve([](corio::stream_reader r, corio::stream_writer w) -> corio::task<void> {
      auto line = co_await r.readline();
      if (line == "bad\n") throw std::runtime_error("handler gives up");
      w.write(line);
      co_await w.drain();
    });
    auto [r1, w1] = co_await corio::open_connection("127.0.0.1", srv.port());
    auto [r2, w2] = co_await corio::open_connection("127.0.0.1", srv.port());
    w1.write("bad\n");
    w2.write("good\n");
    bool ok = co_await r1.read() == ""; // dropped
    ok = ok && co_await r2.readline() == "good\n";
    co_return ok;
  };
  REQUIRE(rt.block_on(body()));
  auto got = reports.get();
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].what == "handler gives up");
}

TEST_CASE("streams: a writer that outpaces its peer waits in drain and stays bounded", "[stream][drain]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    // Shared, not on this frame: the handler may outlive this coroutine. The handler is named
    // before the co_await because GCC 12 destroys a capturing lambda temporary written inside a
    // co_await expression twice (see README, "Compiler notes").
    auto reading = std::make_shared<std::atomic<bool>>(false);
    corio::connection_handler slow_reader = [reading](corio::stream_reader r, corio::stream_writer) -> corio::task<void> {
      while (!reading->load()) co_await corio::sleep(5ms); // does not read for a while
      while (!(co_await r.read(65536)).empty()) {
      }
    };
    auto srv = co_await serve(std::move(slow_reader));
    auto conn = co_await corio::open_connection("127.0.0.1", srv.port());
    auto& w = conn.second; // (clang 14 cannot capture structured bindings)
    const std::string chunk(16 * 1024, 'z');
    std::size_t max_buffered = 0;
    auto writer = [&]() -> corio::task<std::size_t> {
      std::size_t sent = 0;
      for (int i = 0; i < 640; ++i) { // 10 MiB, far more than the kernel buffers hold
        w.write(chunk);
        sent += chunk.size();
        max_buffered = std::max(max_buffered, w.buffered());
        co_await w.drain();
      }
      co_return sent;
    };
    auto h = corio::create_task(writer());
    co_await corio::sleep(100ms);
    bool blocked = !h.done(); // still in drain: the peer has not read
    reading->store(true);
    auto sent = co_await h;
    // Never more than the high-water mark plus the one write that crossed it.
    co_return blocked && sent == 640u * chunk.size() && max_buffered <= 64 * 1024 + chunk.size();
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("streams: writing to a peer that went away surfaces in drain, not as a crash", "[stream][errors]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    auto srv = co_await serve([](corio::stream_reader, corio::stream_writer w) -> corio::task<void> {
      w.close(); // goes away at once
      co_return;
    });
    auto [r, w] = co_await corio::open_connection("127.0.0.1", srv.port());
    co_await r.read(); // the server's end of stream
    bool failed = false;
    try {
      for (int i = 0; i < 1000; ++i) {
        w.write(std::string(64 * 1024, 'q'));
        co_await w.drain();
      }
    } catch (const corio::io_error& e) {
      failed = e.code() == asio::error::broken_pipe || e.code() == asio::error::connection_reset;
    }
    bool rejected = false;
    w.close();
    try {
      w.write("after close");
    } catch (const corio::invalid_state_error&) {
      rejected = true;
    }
    co_await w.wait_closed();
    co_return failed && rejected && w.is_closing();
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("streams: 1,000 connections at once", "[stream][scale]") {
  corio::runtime rt({.workers = 2});
  const int n = corio_test::sanitized() ? 200 : 1000;
  auto body = [n]() -> corio::task<int> {
    auto srv = co_await serve(echo);
    auto client = [](std::uint16_t port, int i) -> corio::task<int> {
      auto [r, w] = co_await corio::open_connection("127.0.0.1", port);
      auto msg = "client " + std::to_string(i) + "\n";
      w.write(msg);
      auto back = co_await r.readline();
      co_return back == msg ? 1 : 0;
    };
    std::vector<corio::task<int>> clients;
    for (int i = 0; i < n; ++i) clients.push_back(client(srv.port(), i));
    auto results = co_await corio::gather(std::move(clients));
    int ok = 0;
    for (int v : results) ok += v;
    srv.close();
    co_await srv.wait_closed();
    co_return ok;
  };
  REQUIRE(rt.block_on(body()) == n);
}

TEST_CASE("server: close stops accepting; close_clients ends the connections; wait_closed waits for handlers", "[server]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    std::atomic<int> finished{0};
    auto srv = co_await serve([&finished](corio::stream_reader r, corio::stream_writer w) -> corio::task<void> {
      w.write("hi\n");
      co_await r.read(); // until the connection ends
      finished.fetch_add(1);
    });
    auto c1 = co_await corio::open_connection("127.0.0.1", srv.port());
    auto c2 = co_await corio::open_connection("127.0.0.1", srv.port());
    bool ok = co_await c1.first.readline() == "hi\n" && co_await c2.first.readline() == "hi\n";
    ok = ok && srv.is_serving();
    auto serving = corio::create_task(srv.serve_forever());
    srv.close();
    co_await serving; // serve_forever returns once closed
    ok = ok && !srv.is_serving();
    // New connections are refused now; the open ones are still served.
    try {
      co_await corio::open_connection("127.0.0.1", srv.port());
      ok = false;
    } catch (const corio::io_error&) {
    }
    ok = ok && srv.active_connections() == 2;
    auto waiting = corio::create_task(srv.wait_closed());
    co_await corio::sleep(20ms);
    ok = ok && !waiting.done();
    srv.close_clients();
    co_await waiting;
    co_return ok && finished.load() == 2 && co_await c1.first.read() == "";
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("use_task: a resolver and a raw socket", "[use_task]") {
  corio::runtime rt({.workers = 2});
  auto body = [](corio::runtime& rt) -> corio::task<bool> {
    auto srv = co_await serve(echo);
    asio::ip::tcp::resolver resolver(rt.io_context());
    auto eps = co_await resolver.async_resolve("localhost", std::to_string(srv.port()), corio::use_task);
    asio::ip::tcp::socket sock(rt.io_context());
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), srv.port());
    co_await sock.async_connect(ep, corio::use_task);
    std::string msg = "raw\n";
    co_await asio::async_write(sock, asio::buffer(msg), corio::use_task);
    char buf[16];
    std::size_t n = co_await sock.async_read_some(asio::buffer(buf), corio::use_task);
    co_return !eps.empty() && std::string(buf, n) == "raw\n";
  };
  REQUIRE(rt.block_on(body(rt)));
}
