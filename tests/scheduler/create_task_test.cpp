#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <vector>

namespace {

corio::task<long> value(long v) { co_return v; }

corio::task<long> spawn_and_sum(long n) {
  std::vector<corio::join_handle<long>> hs;
  hs.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) hs.push_back(corio::create_task(value(i)));
  long sum = 0;
  for (auto& h : hs) sum += co_await h;
  co_return sum;
}

corio::task<long> fib(int n) {
  if (n < 2) co_return n;
  auto h = corio::create_task(fib(n - 1));
  long b = co_await fib(n - 2);
  co_return b + co_await h;
}

} // namespace

TEST_CASE("create_task: 1,000,000 spawned tasks all joined with the right sum", "[create_task]") {
  const long n = static_cast<long>(corio_test::scaled(1'000'000));
  for (std::size_t workers : {1, 2, 4}) {
    corio::scheduler s({.workers = workers});
    REQUIRE(s.block_on(spawn_and_sum(n)) == n * (n - 1) / 2);
  }
}

TEST_CASE("create_task: recursive fork-join spreads over the workers", "[create_task]") {
  corio::scheduler s({.workers = 2});
  REQUIRE(s.block_on(fib(corio_test::sanitized() ? 18 : 25)) == (corio_test::sanitized() ? 2584 : 75025));
  auto m = s.metrics();
  REQUIRE(m.workers.size() == 2);
  // Both workers ran tasks: the idle one stole from the busy one.
  REQUIRE(m.workers[0].polled > 0);
  REQUIRE(m.workers[1].polled > 0);
  REQUIRE(m.workers[0].stolen + m.workers[1].stolen > 0);
}

TEST_CASE("create_task: outside a runtime is a runtime_error", "[create_task]") {
  REQUIRE_THROWS_AS(corio::create_task(value(1)), corio::runtime_error);
}

TEST_CASE("create_task: an empty or already-awaited task is an invalid_state_error", "[create_task]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<int> {
    int errors = 0;
    corio::task<long> empty;
    try {
      corio::create_task(std::move(empty)).detach();
    } catch (const corio::invalid_state_error&) {
      ++errors;
    }
    auto t = value(1);
    co_await t;
    try {
      corio::create_task(std::move(t)).detach();
    } catch (const corio::invalid_state_error&) {
      ++errors;
    }
    co_return errors;
  };
  REQUIRE(s.block_on(body()) == 2);
}

TEST_CASE("create_task: a task starts without being awaited", "[create_task]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<bool> {
    bool started = false;
    auto job = [](bool& flag) -> corio::task<void> {
      flag = true;
      co_return;
    };
    auto h = corio::create_task(job(started));
    while (!h.done()) co_await corio::yield();
    co_return started;
  };
  REQUIRE(s.block_on(body()));
}
