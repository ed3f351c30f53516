// task_group / with_task_group (asyncio.TaskGroup): children never outlive the group; the first
// failure cancels siblings and the body; all failures come back in an exception_group.
#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

corio::task<int> after_yields(int n, int v, const char* fail = nullptr) {
  for (int i = 0; i < n; ++i) co_await corio::yield();
  if (fail) throw std::runtime_error(fail);
  co_return v;
}

corio::task<void> forever(std::atomic<int>& cancelled) {
  try {
    for (;;) co_await corio::yield();
  } catch (const corio::cancelled_error&) {
    cancelled.fetch_add(1);
    throw;
  }
}

corio::task<void> forever_signalling(std::atomic<bool>& started, std::atomic<int>& cancelled) {
  started.store(true);
  co_await forever(cancelled);
}

std::string whats(const corio::exception_group& g) {
  std::string out;
  for (auto& e : g.exceptions()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      out += std::string(x.what()) + ";";
    }
  }
  return out;
}

} // namespace

TEST_CASE("task_group: leaving the group waits for every child; results through the handles", "[task_group]") {
  corio::scheduler s({.workers = 2});
  corio_test::captured_reports reports;
  auto body = []() -> corio::task<int> {
    std::vector<corio::join_handle<int>> hs;
    int from_body = co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<int> {
      for (int i = 0; i < 10; ++i) hs.push_back(tg.create_task(after_yields(i * 3, i)));
      co_return 100;
    });
    int sum = from_body;
    for (auto& h : hs) {
      if (!h.done()) co_return -1; // the group returned before a child finished
      sum += co_await h;
    }
    co_return sum;
  };
  REQUIRE(s.block_on(body()) == 145);
  REQUIRE(reports.get().empty());
}

TEST_CASE("task_group: no failure, no children: nothing thrown", "[task_group]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<bool> {
    co_await corio::with_task_group([](corio::task_group&) -> corio::task<void> { co_return; });
    co_return true;
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("task_group: one failure cancels the siblings and the body, then throws a group of one", "[task_group]") {
  corio::scheduler s({.workers = 2});
  corio_test::captured_reports reports;
  std::atomic<int> cancelled{0};
  auto body = [&]() -> corio::task<std::string> {
    bool body_cancelled = false;
    std::string result = "nothing thrown";
    try {
      co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<void> {
        tg.create_task(forever(cancelled));
        tg.create_task(forever(cancelled));
        tg.create_task(after_yields(5, 0, "boom"));
        try {
          for (;;) co_await corio::yield(); // the body is cancelled by the failure
        } catch (const corio::cancelled_error&) {
          body_cancelled = true;
          throw;
        }
      });
    } catch (const corio::exception_group& g) {
      result = whats(g) + (body_cancelled ? " body cancelled" : " body ran on");
    }
    co_return result + " cancelling=" + std::to_string(co_await corio::this_task::cancelling());
  };
  // The group's own request on the body was withdrawn: the caller is not left cancelled.
  REQUIRE(s.block_on(body()) == "boom; body cancelled cancelling=0");
  REQUIRE(cancelled == 2);
  REQUIRE(reports.get().empty()); // failures were retrieved by the group, not reported
}

TEST_CASE("task_group: several failures all come back, the body's own exception too", "[task_group]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<std::string> {
    try {
      co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<void> {
        // Children that fail while cleaning up after the first failure's cancellation.
        auto picky = [](const char* what) -> corio::task<void> {
          try {
            for (;;) co_await corio::yield();
          } catch (const corio::cancelled_error&) {
          }
          throw std::runtime_error(what);
        };
        tg.create_task(picky("second"));
        tg.create_task(picky("third"));
        co_await corio::yield();
        throw std::runtime_error("body");
      });
    } catch (const corio::exception_group& g) {
      // The body's exception first, then the children's in the order they failed.
      std::string w = whats(g);
      bool both = w == "body;second;third;" || w == "body;third;second;";
      co_return both ? "ok" : w;
    }
    co_return "nothing thrown";
  };
  REQUIRE(s.block_on(body()) == "ok");
}

TEST_CASE("task_group: cancelling the task that runs it cancels every child and rethrows cancelled_error",
          "[task_group][cancel]") {
  corio::scheduler s({.workers = 2});
  std::atomic<int> cancelled{0};
  auto body = [&]() -> corio::task<std::string> {
    std::vector<corio::join_handle<void>> children;
    auto runner = [](std::atomic<int>& cancelled, std::vector<corio::join_handle<void>>& children) -> corio::task<void> {
      co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<void> {
        for (int i = 0; i < 4; ++i) children.push_back(tg.create_task(forever(cancelled)));
        co_return; // the group is now waiting for them
      });
    };
    auto h = corio::create_task(runner(cancelled, children));
    for (int i = 0; i < 10; ++i) co_await corio::yield();
    h.cancel();
    std::string r = "finished";
    try {
      co_await h;
    } catch (const corio::cancelled_error&) {
      r = "cancelled";
    }
    // Every child had finished, cancelled (some perhaps before they ever ran).
    int done = 0;
    for (auto& c : children) done += c.done() && c.cancelled();
    co_return r + " " + std::to_string(done);
  };
  REQUIRE(s.block_on(body()) == "cancelled 4");
}

TEST_CASE("task_group: the explicit form, create_task then wait()", "[task_group]") {
  corio::scheduler s({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    corio::task_group tg;
    auto a = tg.create_task(after_yields(3, 1));
    tg.create_task(after_yields(1, 0, "bad"));
    try {
      co_await tg.wait();
    } catch (const corio::exception_group& g) {
      std::string r = whats(g);
      try {
        (void)tg.create_task(after_yields(0, 0));
      } catch (const corio::invalid_state_error&) {
        r += " closed";
      }
      co_return r + (a.done() ? " a done" : " a running");
    }
    co_return "nothing thrown";
  };
  REQUIRE(s.block_on(body()) == "bad; closed a done");
}

TEST_CASE("task_group: destroyed without wait() cancels its children and reports the misuse", "[task_group]") {
  corio_test::captured_reports reports;
  std::atomic<bool> started{false};
  std::atomic<int> cancelled{0};
  {
    corio::scheduler s({.workers = 2});
    auto body = [&]() -> corio::task<void> {
      {
        corio::task_group tg;
        tg.create_task(forever_signalling(started, cancelled));
        // Until it has started: a child cancelled before that never runs its body (the other
        // worker may have stolen it and not run it yet).
        while (!started.load()) co_await corio::yield();
      }
      // The other worker may be descheduled a while on this 2-vCPU machine: wait for the
      // cancellation by the clock, not by a number of yields.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (cancelled.load() == 0 && std::chrono::steady_clock::now() < deadline) co_await corio::yield();
    };
    s.block_on(body());
  }
  REQUIRE(cancelled == 1);
  auto got = reports.get();
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].context == "task_group");
}
