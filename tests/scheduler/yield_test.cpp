#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

TEST_CASE("yield: lets the other queued tasks of the worker run first", "[yield]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<std::vector<int>> {
    std::vector<int> order;
    auto mark = [](std::vector<int>& order, int v) -> corio::task<void> {
      order.push_back(v);
      co_return;
    };
    auto a = corio::create_task(mark(order, 1));
    auto b = corio::create_task(mark(order, 2));
    co_await corio::yield(); // both queued tasks run before we continue
    order.push_back(3);
    co_await a;
    co_await b;
    co_return order;
  };
  auto order = s.block_on(body());
  REQUIRE(order.size() == 3);
  REQUIRE(order.back() == 3);
}

TEST_CASE("yield: a task that re-schedules itself forever does not starve others", "[yield][fairness]") {
  for (std::size_t workers : {1, 2}) {
    corio::scheduler s({.workers = workers});
    std::atomic<bool> stop{false};
    auto spinner = [](std::atomic<bool>& stop) -> corio::task<long> {
      long spins = 0;
      while (!stop.load()) {
        co_await corio::yield();
        ++spins;
      }
      co_return spins;
    };
    auto body = [&]() -> corio::task<long> {
      std::vector<corio::join_handle<long>> spinners;
      for (std::size_t i = 0; i < workers * 2; ++i) spinners.push_back(corio::create_task(spinner(stop)));
      // While the spinners spin, ordinary work still gets done.
      long done = 0;
      for (int i = 0; i < 1000; ++i) {
        auto h = corio::create_task([]() -> corio::task<int> { co_return 1; }());
        done += co_await h;
      }
      stop = true;
      for (auto& h : spinners) co_await h;
      co_return done;
    };
    REQUIRE(s.block_on(body()) == 1000);
  }
}

TEST_CASE("yield: outside a runtime does not suspend", "[yield]") {
  // A coroutine driven by hand (no runtime): yield must not park it forever.
  struct manual {
    struct promise_type {
      manual get_return_object() { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
      std::suspend_never initial_suspend() noexcept { return {}; }
      std::suspend_always final_suspend() noexcept { return {}; }
      void return_void() {}
      void unhandled_exception() { std::terminate(); }
    };
    std::coroutine_handle<promise_type> h;
  };
  bool after = false;
  auto m = [](bool& after) -> manual {
    co_await corio::yield();
    after = true;
  }(after);
  REQUIRE(after);
  REQUIRE(m.h.done());
  m.h.destroy();
}
