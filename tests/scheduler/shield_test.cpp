// shield (asyncio.shield): the caller's cancellation does not reach the shielded work.
#include <corio/corio.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <string>

namespace {
corio::task<int> work(std::atomic<bool>& go, std::atomic<bool>& finished, std::atomic<bool>* started = nullptr) {
  if (started) *started = true;
  while (!go.load()) co_await corio::yield();
  finished = true;
  co_return 5;
}
} // namespace

TEST_CASE("shield: the waiter is cancelled, the shielded work runs to completion", "[shield][cancel]") {
  std::atomic<bool> finished{false};
  std::atomic<bool> go{false};
  std::atomic<bool> started{false};
  {
    corio::scheduler s({.workers = 2});
    auto body = [&]() -> corio::task<std::string> {
      auto outer = [](std::atomic<bool>& go, std::atomic<bool>& finished, std::atomic<bool>& started) -> corio::task<int> {
        co_return co_await corio::shield(work(go, finished, &started));
      };
      auto h = corio::create_task(outer(go, finished, started));
      // Cancel once the shielded work exists. A fixed number of yields was not enough: the
      // other worker could steal `outer` and be preempted past them, and a task cancelled
      // before it starts never runs its body, so the work was never created.
      while (!started.load()) co_await corio::yield();
      h.cancel();
      std::string r;
      try {
        r = std::to_string(co_await h);
      } catch (const corio::cancelled_error&) {
        r = "cancelled";
      }
      r += finished.load() ? " work done" : " work running";
      go = true;
      while (!finished.load()) co_await corio::yield();
      co_return r;
    };
    REQUIRE(s.block_on(body()) == "cancelled work running");
  }
  REQUIRE(finished);
}

TEST_CASE("shield: without a cancellation it is just the awaited value or exception", "[shield]") {
  corio::scheduler s({.workers = 2});
  auto body = []() -> corio::task<int> {
    auto v = []() -> corio::task<int> { co_return 3; };
    auto bad = []() -> corio::task<int> {
      co_await corio::yield();
      throw std::runtime_error("x");
    };
    int a = co_await corio::shield(v());
    try {
      co_await corio::shield(bad());
    } catch (const std::runtime_error&) {
      a += 10;
    }
    co_return a;
  };
  REQUIRE(s.block_on(body()) == 13);
}
