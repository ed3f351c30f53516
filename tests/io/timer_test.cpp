#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <vector>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

TEST_CASE("sleep: never returns early", "[timer]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<bool> {
    bool ok = true;
    for (auto d : {1ms, 5ms, 20ms, 50ms}) {
      auto start = clock_type::now();
      co_await corio::sleep(d);
      ok = ok && clock_type::now() - start >= d;
    }
    auto until = clock_type::now() + 30ms;
    co_await corio::sleep_until(until);
    co_return ok && clock_type::now() >= until;
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("sleep: many concurrent sleepers all wake, each after its own deadline", "[timer]") {
  corio::runtime rt({.workers = 2});
  const int n = static_cast<int>(corio_test::scaled(20'000));
  std::atomic<int> early{0};
  auto sleeper = [](std::atomic<int>& early, int i) -> corio::task<int> {
    auto d = std::chrono::milliseconds(1 + i % 20);
    auto start = clock_type::now();
    co_await corio::sleep(d);
    if (clock_type::now() - start < d) early.fetch_add(1);
    co_return 1;
  };
  auto body = [&]() -> corio::task<int> {
    std::vector<corio::task<int>> ts;
    for (int i = 0; i < n; ++i) ts.push_back(sleeper(early, i));
    auto r = co_await corio::gather(std::move(ts));
    int sum = 0;
    for (int v : r) sum += v;
    co_return sum;
  };
  REQUIRE(rt.block_on(body()) == n);
  REQUIRE(early.load() == 0);
}

TEST_CASE("sleep: zero or negative durations yield without waiting", "[timer]") {
  corio::runtime rt({.workers = 1});
  auto body = []() -> corio::task<bool> {
    auto start = clock_type::now();
    co_await corio::sleep(0ms);
    co_await corio::sleep(-5ms);
    co_return clock_type::now() - start < 50ms;
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("sleep: on a bare scheduler is a runtime_error", "[timer]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<bool> {
    try {
      co_await corio::sleep(1ms);
    } catch (const corio::runtime_error&) {
      co_return true;
    }
    co_return false;
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("sleep: shutdown with sleepers pending destroys them cleanly", "[timer]") {
  std::atomic<int> started{0};
  {
    corio::runtime rt({.workers = 1});
    auto sleeper = [](std::atomic<int>& started) -> corio::task<void> {
      started.fetch_add(1);
      co_await corio::sleep(1h);
    };
    for (int i = 0; i < 100; ++i) rt.spawn(sleeper(started)).detach();
    while (started.load() < 100) std::this_thread::sleep_for(1ms);
  }
  REQUIRE(started.load() == 100);
}

TEST_CASE("use_task: an Asio timer awaited from a task", "[use_task]") {
  corio::runtime rt({.workers = 2});
  auto body = [](corio::runtime& rt) -> corio::task<bool> {
    asio::steady_timer t(rt.io_context(), 20ms);
    auto start = clock_type::now();
    co_await t.async_wait(corio::use_task);
    bool waited = clock_type::now() - start >= 20ms;
    // A cancelled wait arrives as an io_error carrying operation_aborted.
    asio::steady_timer t2(rt.io_context(), 1h);
    auto waiter = [](asio::steady_timer& t) -> corio::task<std::error_code> {
      try {
        co_await t.async_wait(corio::use_task);
      } catch (const corio::io_error& e) {
        co_return e.code();
      }
      co_return std::error_code{};
    };
    auto h = corio::create_task(waiter(t2));
    co_await corio::sleep(10ms);
    asio::post(t2.get_executor(), [&t2] { t2.cancel(); });
    auto ec = co_await h;
    co_return waited && ec == asio::error::operation_aborted;
  };
  REQUIRE(rt.block_on(body(rt)));
}

TEST_CASE("runtime: an application-provided io_context drives corio's I/O", "[runtime][io]") {
  asio::io_context app;
  auto guard = asio::make_work_guard(app);
  std::thread app_thread([&] { app.run(); });
  {
    corio::runtime rt({.workers = 1, .io_context = &app});
    REQUIRE(&rt.io_context() == &app);
    auto body = []() -> corio::task<bool> {
      auto start = clock_type::now();
      co_await corio::sleep(15ms);
      co_return clock_type::now() - start >= 15ms;
    };
    REQUIRE(rt.block_on(body()));
  }
  guard.reset();
  app.stop();
  app_thread.join();
}
