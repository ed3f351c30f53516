// Cancellation of the I/O layer's awaitables: sleep, use_task Asio operations, stream reads (no
// byte lost), drain, serve_forever; and corio::run cancelling the tasks left at the end.
#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {
template <class T>
corio::task<std::string> outcome(corio::join_handle<T>& h) {
  try {
    co_await h;
    co_return "finished";
  } catch (const corio::cancelled_error&) {
    co_return "cancelled";
  }
}
} // namespace

TEST_CASE("cancel: a sleeping task wakes at once with cancelled_error", "[cancel][timer]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    auto sleeper = []() -> corio::task<void> { co_await corio::sleep(10s); };
    auto h = corio::create_task(sleeper());
    co_await corio::sleep(5ms);
    auto start = clock_type::now();
    h.cancel();
    auto r = co_await outcome(h);
    co_return r + (clock_type::now() - start < 5s ? " promptly" : " late");
  };
  REQUIRE(rt.block_on(body()) == "cancelled promptly");
}

TEST_CASE("cancel: many sleepers cancelled at once all wake; other sleeps are unaffected", "[cancel][timer]") {
  corio::runtime rt({.workers = 2});
  const int n = static_cast<int>(corio_test::scaled(10'000));
  auto body = [n]() -> corio::task<bool> {
    std::vector<corio::join_handle<void>> hs;
    auto sleeper = []() -> corio::task<void> { co_await corio::sleep(60s); };
    for (int i = 0; i < n; ++i) hs.push_back(corio::create_task(sleeper()));
    auto keeper = corio::create_task(corio::sleep(30ms));
    co_await corio::sleep(5ms);
    for (auto& h : hs) h.cancel();
    int cancelled = 0;
    for (auto& h : hs) cancelled += co_await outcome(h) == "cancelled";
    auto start = clock_type::now();
    co_await keeper; // still fires, at its own time
    (void)start;
    co_return cancelled == n;
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("cancel: a cancellation requested before a sleep starts is seen when it starts", "[cancel][timer]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    std::atomic<int> phase{0};
    auto t = [](std::atomic<int>& phase) -> corio::task<void> {
      phase = 1;
      while (phase.load() != 2) std::this_thread::yield(); // cancel() arrives while we run
      co_await corio::sleep(10s);                          // sticky: this sleep never starts
    };
    auto h = corio::create_task(t(phase));
    while (phase.load() != 1) co_await corio::yield();
    auto start = clock_type::now();
    h.cancel();
    phase = 2;
    auto r = co_await outcome(h);
    co_return r + (clock_type::now() - start < 5s ? " promptly" : " late");
  };
  REQUIRE(rt.block_on(body()) == "cancelled promptly");
}

TEST_CASE("cancel: a use_task Asio operation is cancelled through its slot, resumed once", "[cancel][use_task]") {
  corio::runtime rt({.workers = 2});
  auto body = [&rt]() -> corio::task<std::string> {
    auto waiter = [](asio::io_context& ctx) -> corio::task<void> {
      asio::steady_timer t(ctx, 10s);
      co_await t.async_wait(corio::use_task);
    };
    auto h = corio::create_task(waiter(rt.io_context()));
    co_await corio::sleep(5ms);
    auto start = clock_type::now();
    h.cancel();
    auto r = co_await outcome(h);
    co_return r + (clock_type::now() - start < 5s ? " promptly" : " late");
  };
  REQUIRE(rt.block_on(body()) == "cancelled promptly");
}

TEST_CASE("cancel: a use_task operation that completes first keeps its result", "[cancel][use_task]") {
  corio::runtime rt({.workers = 2});
  const int rounds = static_cast<int>(corio_test::scaled(300, 3));
  auto body = [&rt, rounds]() -> corio::task<int> {
    int resumed = 0;
    for (int i = 0; i < rounds; ++i) {
      auto waiter = [](asio::io_context& ctx) -> corio::task<int> {
        asio::steady_timer t(ctx, 200us);
        co_await t.async_wait(corio::use_task);
        co_return 1;
      };
      auto h = corio::create_task(waiter(rt.io_context()));
      co_await corio::sleep(std::chrono::microseconds(100 + (i % 5) * 50)); // race the expiry
      h.cancel();
      try {
        resumed += co_await h;
      } catch (const corio::cancelled_error&) {
        ++resumed;
      }
    }
    co_return resumed;
  };
  REQUIRE(rt.block_on(body()) == rounds); // each resumed exactly once, one way or the other
}

TEST_CASE("cancel: a cancelled readline loses no bytes; the next read gets them", "[cancel][stream]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    corio::event sent_partial, go_on;
    auto handler = [&](corio::stream_reader, corio::stream_writer w) -> corio::task<void> {
      w.write("hel");
      co_await w.drain();
      sent_partial.set();
      co_await go_on.wait();
      w.write("lo\nworld\n");
      co_await w.drain();
    };
    auto srv = co_await corio::start_server(handler, "127.0.0.1", 0);
    auto [r, w] = co_await corio::open_connection("127.0.0.1", srv.port());
    auto reader = [](corio::stream_reader& r) -> corio::task<std::string> { co_return co_await r.readline(); };
    auto h = corio::create_task(reader(r));
    co_await sent_partial.wait();
    co_await corio::sleep(20ms); // the reader has taken "hel" off the socket and waits for more
    h.cancel();
    std::string first = co_await outcome(h);
    go_on.set();
    std::string line = co_await r.readline();
    std::string second = co_await r.readline();
    srv.close();
    co_await srv.wait_closed();
    co_return first + " " + line + second;
  };
  REQUIRE(rt.block_on(body()) == "cancelled hello\nworld\n");
}

TEST_CASE("cancel: cancel racing data arrival on a read: each line is seen exactly once", "[cancel][stream]") {
  corio::runtime rt({.workers = 2});
  const int rounds = static_cast<int>(corio_test::scaled(300, 3));
  auto body = [rounds]() -> corio::task<std::string> {
    corio::queue<int> to_send;
    auto handler = [&](corio::stream_reader, corio::stream_writer w) -> corio::task<void> {
      for (;;) {
        int i = co_await to_send.get();
        if (i < 0) break;
        w.write("line " + std::to_string(i) + "\n");
        co_await w.drain();
      }
    };
    auto srv = co_await corio::start_server(handler, "127.0.0.1", 0);
    auto [r, w] = co_await corio::open_connection("127.0.0.1", srv.port());
    auto reader = [](corio::stream_reader& r) -> corio::task<std::string> { co_return co_await r.readline(); };
    std::string seen, expected;
    int cancelled = 0;
    for (int i = 0; i < rounds; ++i) {
      expected += "line " + std::to_string(i) + "\n";
      auto h = corio::create_task(reader(r));
      if (i % 3 == 0) co_await corio::sleep(std::chrono::microseconds(200)); // sometimes already waiting
      to_send.put_nowait(i); // the data and the cancel race
      h.cancel();
      bool was_cancelled = false;
      try {
        seen += co_await h;
      } catch (const corio::cancelled_error&) {
        was_cancelled = true;
      }
      if (was_cancelled) {
        ++cancelled;
        seen += co_await r.readline(); // what the cancelled read had not returned is still there
      }
    }
    to_send.put_nowait(-1);
    srv.close();
    co_await srv.wait_closed();
    co_return seen == expected ? "exactly once" : "mismatch: " + seen;
  };
  REQUIRE(rt.block_on(body()) == "exactly once");
}

TEST_CASE("cancel: cancelling serve_forever closes the server", "[cancel][stream]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    auto handler = [](corio::stream_reader, corio::stream_writer) -> corio::task<void> { co_return; };
    auto srv = co_await corio::start_server(handler, "127.0.0.1", 0);
    auto forever = [](corio::server& s) -> corio::task<void> { co_await s.serve_forever(); };
    auto h = corio::create_task(forever(srv));
    co_await corio::sleep(5ms);
    h.cancel();
    std::string r = co_await outcome(h);
    co_await srv.wait_closed(); // returns: the server was closed by the cancellation
    try {
      auto c = co_await corio::open_connection("127.0.0.1", srv.port());
      r += " still accepting";
    } catch (const corio::io_error&) {
      r += " closed";
    }
    co_return r;
  };
  REQUIRE(rt.block_on(body()) == "cancelled closed");
}

TEST_CASE("run: tasks still pending when main returns are cancelled and their cleanup runs", "[cancel][run]") {
  static std::atomic<int> cleaned{0};
  cleaned = 0;
  auto amain = []() -> corio::task<int> {
    for (int i = 0; i < 10; ++i) {
      auto t = []() -> corio::task<void> {
        bool cancelled = false;
        try {
          co_await corio::sleep(60s);
        } catch (const corio::cancelled_error&) {
          cancelled = true;
        }
        if (cancelled) {
          co_await corio::sleep(1ms); // cleanup may await
          cleaned.fetch_add(1);
          throw corio::cancelled_error();
        }
      };
      corio::create_task(t()).detach();
    }
    co_await corio::sleep(5ms);
    co_return 7;
  };
  auto start = clock_type::now();
  REQUIRE(corio::run(amain(), {.workers = 2}) == 7);
  REQUIRE(cleaned == 10);
  REQUIRE(clock_type::now() - start < 30s);
}

TEST_CASE("runtime::shutdown(deadline) reports tasks that ignore their cancellation", "[cancel][run]") {
  std::atomic<bool> stop{false};
  std::atomic<int> started{0};
  corio::runtime rt({.workers = 2});
  auto stubborn = [](std::atomic<bool>& stop, std::atomic<int>& started) -> corio::task<void> {
    started.fetch_add(1);
    while (!stop.load()) {
      try {
        co_await corio::sleep(1ms);
      } catch (const corio::cancelled_error&) {
      }
    }
  };
  rt.spawn(stubborn(stop, started)).detach();
  auto polite = [](std::atomic<int>& started) -> corio::task<void> {
    started.fetch_add(1);
    co_await corio::sleep(60s);
  };
  rt.spawn(polite(started)).detach();
  while (started.load() != 2) std::this_thread::yield();
  auto r = rt.shutdown(50ms);
  REQUIRE(r.cancelled == 2);
  REQUIRE(r.left == 1);
  stop = true;
}
