#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

corio::task<int> value(int v) { co_return v; }
corio::task<void> touch(std::atomic<int>& n) {
  n.fetch_add(1);
  co_return;
}
corio::task<std::string> text(std::string s) { co_return s; }
corio::task<std::unique_ptr<int>> boxed(int v) { co_return std::make_unique<int>(v); }

// Finishes after `spins` trips through the scheduler, then throws `what` (if any).
corio::task<int> after(int spins, int v, const char* what = nullptr) {
  for (int i = 0; i < spins; ++i) co_await corio::yield();
  if (what) throw std::runtime_error(what);
  co_return v;
}

} // namespace

TEST_CASE("gather: variadic results in argument order, void as unit", "[gather]") {
  corio::scheduler s({.workers = 2});
  std::atomic<int> touched{0};
  auto body = [&]() -> corio::task<bool> {
    auto [a, b, c, d, e] = co_await corio::gather(after(20, 1), value(2), text("three"), touch(touched), boxed(5));
    static_assert(std::is_same_v<decltype(d), corio::unit>);
    co_return a == 1 && b == 2 && c == "three" && *e == 5;
  };
  REQUIRE(s.block_on(body()));
  REQUIRE(touched == 1);
}

TEST_CASE("gather: the branches run concurrently", "[gather]") {
  corio::scheduler s({.workers = 1});
  // Each branch waits for the other: only possible if both are running at once.
  auto body = []() -> corio::task<int> {
    std::atomic<int> stage{0};
    auto first = [](std::atomic<int>& stage) -> corio::task<int> {
      stage = 1;
      while (stage.load() != 2) co_await corio::yield();
      co_return 1;
    };
    auto second = [](std::atomic<int>& stage) -> corio::task<int> {
      while (stage.load() != 1) co_await corio::yield();
      stage = 2;
      co_return 2;
    };
    auto [a, b] = co_await corio::gather(first(stage), second(stage));
    co_return a + b;
  };
  REQUIRE(s.block_on(body()) == 3);
}

TEST_CASE("gather: a range gives a vector; an empty range or no arguments give empty results", "[gather]") {
  corio::scheduler s({.workers = 2});
  auto body = []() -> corio::task<bool> {
    std::vector<corio::task<int>> tasks;
    for (int i = 0; i < 1000; ++i) tasks.push_back(after(i % 3, i));
    std::vector<int> got = co_await corio::gather(std::move(tasks));
    bool ok = got.size() == 1000;
    for (int i = 0; ok && i < 1000; ++i) ok = got[static_cast<std::size_t>(i)] == i;

    std::vector<corio::task<int>> none;
    auto empty = co_await corio::gather(std::move(none));
    auto nothing = co_await corio::gather();
    static_assert(std::is_same_v<decltype(nothing), std::tuple<>>);
    co_return ok && empty.empty();
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("gather: accepts join handles, lvalue ones used in place", "[gather]") {
  corio::scheduler s({.workers = 2});
  auto body = []() -> corio::task<int> {
    auto h1 = corio::create_task(after(5, 10));
    auto h2 = corio::create_task(value(20));
    auto [a, b, c] = co_await corio::gather(h1, std::move(h2), value(30));
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < 10; ++i) hs.push_back(corio::create_task(value(i)));
    auto v = co_await corio::gather(hs);
    int sum = 0;
    for (int x : v) sum += x;
    co_return a + b + c + sum;
  };
  REQUIRE(s.block_on(body()) == 60 + 45);
}

TEST_CASE("gather: the first failure cancels the other branches, waits for them, rethrows it", "[gather]") {
  corio_test::captured_reports reports;
  std::atomic<int> saw_cancel{0};
  std::atomic<int> finished{0};
  {
    // One worker makes "first in time" deterministic: a branch that fails after one trip
    // through the scheduler fails before the others get far.
    corio::scheduler s({.workers = 1});
    auto slow = [](std::atomic<int>& saw_cancel, std::atomic<int>& finished) -> corio::task<int> {
      try {
        for (int i = 0; i < 1000; ++i) co_await corio::yield();
      } catch (const corio::cancelled_error&) {
        saw_cancel.fetch_add(1);
        finished.fetch_add(1);
        throw;
      }
      finished.fetch_add(1);
      co_return 1;
    };
    auto body = [&]() -> corio::task<std::string> {
      try {
        co_await corio::gather(slow(saw_cancel, finished), after(1, 0, "first"), after(100, 0, "second"),
                               slow(saw_cancel, finished));
      } catch (const std::runtime_error& e) {
        // By now the cancelled branches have finished too: gather never leaves branches running.
        co_return std::string(e.what()) + (finished.load() == 2 ? " after all" : " early");
      }
      co_return "no exception";
    };
    REQUIRE(s.block_on(body()) == "first after all");
  }
  REQUIRE(saw_cancel == 2);
  // "second" never happened (cancelled first), and the cancellations themselves are not failures.
  REQUIRE(reports.get().empty());
}

TEST_CASE("gather: a failure that races the first one is reported, not lost", "[gather]") {
  corio_test::captured_reports reports;
  {
    corio::scheduler s({.workers = 1});
    // A branch that catches the cancellation and fails differently while cleaning up.
    auto stubborn = []() -> corio::task<int> {
      try {
        for (int i = 0; i < 1000; ++i) co_await corio::yield();
      } catch (const corio::cancelled_error&) {
        throw std::logic_error("cleanup failed");
      }
      co_return 0;
    };
    auto body = [&]() -> corio::task<std::string> {
      try {
        co_await corio::gather(stubborn(), after(1, 0, "first"));
      } catch (const std::runtime_error& e) {
        co_return e.what();
      }
      co_return "no exception";
    };
    REQUIRE(s.block_on(body()) == "first");
  }
  auto got = reports.get();
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].what == "cleanup failed");
}

TEST_CASE("gather_settled: every outcome, values and exceptions", "[gather]") {
  corio_test::captured_reports reports;
  corio::scheduler s({.workers = 2});
  auto body = []() -> corio::task<bool> {
    auto [a, b, c] = co_await corio::gather_settled(value(1), after(3, 0, "bad"), text("x"));
    bool ok = a.has_value() && a.value() == 1 && !b && b.error() && c && *c == "x";
    try {
      b.value();
      ok = false;
    } catch (const std::runtime_error& e) {
      ok = ok && std::string(e.what()) == "bad";
    }
    std::vector<corio::task<int>> ts;
    ts.push_back(value(1));
    ts.push_back(after(2, 0, "x"));
    auto v = co_await corio::gather_settled(std::move(ts));
    co_return ok && v.size() == 2 && v[0].value() == 1 && !v[1].has_value();
  };
  REQUIRE(s.block_on(body()));
  REQUIRE(reports.get().empty());
}

TEST_CASE("gather: nothing starts until the gather is awaited", "[gather]") {
  std::atomic<int> touched{0};
  corio::scheduler s({.workers = 1});
  auto g = corio::gather(touch(touched), touch(touched)); // built outside any runtime: lazy
  REQUIRE(touched == 0);
  auto body = [](decltype(g)& g) -> corio::task<void> { co_await std::move(g); };
  s.block_on(body(g));
  REQUIRE(touched == 2);
}
