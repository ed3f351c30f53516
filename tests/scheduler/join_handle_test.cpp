#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

corio::task<int> value(int v) { co_return v; }

corio::task<int> fail(const char* what) {
  throw std::runtime_error(what);
  co_return 0;
}

// A task that finishes only when `release` is set; lets tests hold tasks in flight.
corio::task<int> wait_for_flag(std::atomic<bool>& release, int v) {
  while (!release.load()) co_await corio::yield();
  co_return v;
}

} // namespace

TEST_CASE("join_handle: awaiting yields the value; done() reflects completion", "[join_handle]") {
  corio::scheduler s({.workers = 2});
  auto body = []() -> corio::task<int> {
    auto h = corio::create_task(value(20));
    int v = co_await h;
    co_return v + 1;
  };
  REQUIRE(s.block_on(body()) == 21);

  std::atomic<bool> release{false};
  auto h = s.spawn(wait_for_flag(release, 5));
  REQUIRE(h.valid());
  REQUIRE_FALSE(h.done());
  release = true;
  auto waiter = [](corio::join_handle<int>& h) -> corio::task<int> { co_return co_await h; };
  REQUIRE(s.block_on(waiter(h)) == 5);
  REQUIRE(h.done());
}

TEST_CASE("join_handle: exceptions propagate to the awaiter and are not reported", "[join_handle]") {
  corio_test::captured_reports reports;
  {
    corio::scheduler s({.workers = 2});
    auto body = []() -> corio::task<std::string> {
      auto h = corio::create_task(fail("task failed"));
      try {
        co_await h;
      } catch (const std::runtime_error& e) {
        co_return e.what();
      }
      co_return "";
    };
    REQUIRE(s.block_on(body()) == "task failed");
  }
  REQUIRE(reports.get().empty());
}

TEST_CASE("join_handle: a detached task keeps running", "[join_handle]") {
  corio::scheduler s({.workers = 2});
  std::atomic<int> ran{0};
  auto job = [](std::atomic<int>& ran) -> corio::task<void> {
    co_await corio::yield();
    ran.fetch_add(1);
  };
  auto body = [&]() -> corio::task<void> {
    for (int i = 0; i < 100; ++i) corio::create_task(job(ran)).detach();
    co_return;
  };
  s.block_on(body());
  for (int i = 0; i < 2000 && ran.load() < 100; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(ran.load() == 100);
}

TEST_CASE("join_handle: an exception nobody retrieves is reported exactly once", "[join_handle]") {
  corio_test::captured_reports reports;
  {
    corio::scheduler s({.workers = 2});
    auto body = []() -> corio::task<void> {
      corio::create_task(fail("detached failure")).detach(); // detached before it finishes
      auto h = corio::create_task(fail("dropped failure"));
      while (!h.done()) co_await corio::yield();
      // h is dropped here without being awaited: its exception was never retrieved.
    };
    s.block_on(body());
    for (int i = 0; i < 2000 && reports.get().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto got = reports.get();
  REQUIRE(got.size() == 2);
  int detached = 0, dropped = 0;
  for (auto& r : got) {
    REQUIRE(r.context == "Task exception was never retrieved");
    detached += r.what == "detached failure";
    dropped += r.what == "dropped failure";
  }
  REQUIRE(detached == 1);
  REQUIRE(dropped == 1);
}

TEST_CASE("join_handle: co_await frees the task at once; the handle still answers", "[join_handle]") {
  corio::scheduler s({.workers = 1});
  // Values move out (a move-only one too), and no frame outlives its co_await while the handles
  // are still held: only block_on's driver is left alive.
  auto many = [&s]() -> corio::task<std::size_t> {
    auto boxed = [](int v) -> corio::task<std::unique_ptr<int>> { co_return std::make_unique<int>(v); };
    std::vector<corio::join_handle<std::unique_ptr<int>>> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(corio::create_task(boxed(i)));
    int sum = 0;
    for (auto& h : hs) sum += *co_await h;
    if (sum != 4950) co_return 0;
    for (auto& h : hs)
      if (!h.valid() || !h.done() || h.failed() || h.cancelled()) co_return 0;
    co_return s.metrics().tasks_alive;
  };
  REQUIRE(s.block_on(many()) == 1);

  // How it ended stays readable, and the handle cannot be awaited again.
  auto ended = []() -> corio::task<std::string> {
    std::string r;
    auto failing = corio::create_task(fail("boom"));
    try {
      co_await failing;
    } catch (const std::runtime_error& e) {
      r += e.what();
    }
    r += failing.done() && failing.failed() && !failing.cancelled() ? " failed" : " ?";
    std::atomic<bool> never{false};
    auto stopped = corio::create_task(wait_for_flag(never, 1));
    co_await corio::yield();
    stopped.cancel();
    try {
      co_await stopped;
    } catch (const corio::cancelled_error&) {
      r += " cancelled";
    }
    r += stopped.done() && stopped.cancelled() && !stopped.failed() && !stopped.cancel() ? " flagged" : " ?";
    co_await stopped.until_done(); // finished: returns at once
    try {
      co_await stopped;
    } catch (const corio::invalid_state_error&) {
      r += " once";
    }
    co_return r;
  };
  REQUIRE(s.block_on(ended()) == "boom failed cancelled flagged once");
}

namespace {
// A result whose move throws once `armed` is set: the move out of the finished task fails.
struct fragile {
  std::atomic<bool>* armed;
  explicit fragile(std::atomic<bool>* a) : armed(a) {}
  fragile(fragile&& o) : armed(o.armed) {
    if (armed->load()) throw std::runtime_error("move failed");
  }
};
} // namespace

TEST_CASE("join_handle: a result whose move throws still consumes the handle and frees the task", "[join_handle]") {
  corio::scheduler s({.workers = 1});
  auto body = [&s]() -> corio::task<std::string> {
    std::atomic<bool> armed{false};
    auto make = [](std::atomic<bool>* a) -> corio::task<fragile> { co_return fragile(a); };
    auto h = corio::create_task(make(&armed));
    co_await h.until_done();
    armed = true;
    std::string r;
    try {
      (void)co_await h;
    } catch (const std::runtime_error& e) {
      r += e.what();
    }
    try {
      (void)co_await h;
    } catch (const corio::invalid_state_error&) {
      r += ", once";
    }
    r += h.done() ? ", done" : ", not done";
    r += s.metrics().tasks_alive == 1 ? ", freed" : ", kept";
    co_return r;
  };
  REQUIRE(s.block_on(body()) == "move failed, once, done, freed");
}

TEST_CASE("join_handle: misuse is an invalid_state_error", "[join_handle]") {
  corio::scheduler s({.workers = 1});
  auto twice = []() -> corio::task<bool> {
    auto h = corio::create_task(value(1));
    co_await h;
    try {
      co_await h;
    } catch (const corio::invalid_state_error&) {
      co_return true;
    }
    co_return false;
  };
  REQUIRE(s.block_on(twice()));

  auto empty = []() -> corio::task<bool> {
    corio::join_handle<int> h;
    try {
      co_await h;
    } catch (const corio::invalid_state_error&) {
      co_return true;
    }
    co_return false;
  };
  REQUIRE(s.block_on(empty()));
}

TEST_CASE("join_handle: a handle that outlives shutdown reports cancelled_error", "[join_handle]") {
  std::atomic<bool> never{false};
  corio::join_handle<int> h;
  corio::join_handle<int> finished;
  {
    corio::scheduler s({.workers = 1});
    h = s.spawn(wait_for_flag(never, 1));
    finished = s.spawn(value(9));
    while (!finished.done()) std::this_thread::yield();
    s.shutdown();
    REQUIRE(h.done());
  }
  // The scheduler is gone; both handles are still safe to inspect and drop.
  REQUIRE(h.done());
  REQUIRE(finished.done());
  corio::scheduler other({.workers = 1});
  auto await_it = [](corio::join_handle<int>& h) -> corio::task<bool> {
    try {
      co_await h;
    } catch (const corio::cancelled_error&) {
      co_return true;
    }
    co_return false;
  };
  REQUIRE(other.block_on(await_it(h)));
  REQUIRE(h.cancelled());
  REQUIRE_FALSE(h.failed());
}

TEST_CASE("join_handle: awaiting a task of another runtime is a runtime_error", "[join_handle]") {
  corio::scheduler a({.workers = 1});
  corio::scheduler b({.workers = 1});
  std::atomic<bool> release{false};
  auto h = a.spawn(wait_for_flag(release, 3));
  auto await_it = [](corio::join_handle<int>& h) -> corio::task<bool> {
    try {
      co_await h;
    } catch (const corio::runtime_error&) {
      co_return true;
    }
    co_return false;
  };
  REQUIRE(b.block_on(await_it(h)));
  release = true;
  auto same = [](corio::join_handle<int>& h) -> corio::task<int> { co_return co_await h; };
  REQUIRE(a.block_on(same(h)) == 3);
}
