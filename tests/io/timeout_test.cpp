// wait_for / timeout / timeout_at (asyncio.wait_for / asyncio.timeout).
#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {
corio::task<int> slow(std::chrono::milliseconds d, int v) {
  co_await corio::sleep(d);
  co_return v;
}
} // namespace

TEST_CASE("timeout: the work finishing first returns its value; no cancellation is left behind", "[timeout]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    int v = co_await corio::wait_for(slow(5ms, 3), 5s);
    int w = co_await corio::timeout(5s, slow(1ms, 4));
    co_await corio::sleep(20ms); // would throw if a cancellation had been left pending
    co_return std::to_string(v + w) + " " + std::to_string(co_await corio::this_task::cancelling());
  };
  REQUIRE(rt.block_on(body()) == "7 0");
}

TEST_CASE("timeout: expiry cancels the work, waits for its cleanup, then throws timeout_error", "[timeout]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    std::atomic<bool> cleaned{false};
    auto work = [](std::atomic<bool>& cleaned) -> corio::task<int> {
      bool cancelled = false;
      try {
        co_await corio::sleep(10s);
      } catch (const corio::cancelled_error&) {
        cancelled = true;
      }
      if (cancelled) {
        co_await corio::sleep(10ms); // cleanup that awaits
        cleaned = true;
        throw corio::cancelled_error();
      }
      co_return 1;
    };
    auto start = clock_type::now();
    std::string r = "no timeout";
    try {
      co_await corio::wait_for(work(cleaned), 30ms);
    } catch (const corio::timeout_error&) {
      auto took = clock_type::now() - start;
      r = cleaned.load() ? "timed out after cleanup" : "timed out before cleanup";
      if (took < 30ms) r += " early";
    }
    // The caller can go on awaiting: the expiry was consumed.
    co_await corio::sleep(1ms);
    co_return r + " cancelling=" + std::to_string(co_await corio::this_task::cancelling());
  };
  REQUIRE(rt.block_on(body()) == "timed out after cleanup cancelling=0");
}

TEST_CASE("timeout: a ready awaitable needs no timer; an immediate deadline still times out", "[timeout]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    corio::event e(true);
    co_await corio::wait_for(e.wait(), 0ms); // ready: returns even with no time at all
    try {
      co_await corio::timeout_at(clock_type::now() - 1s, corio::sleep(1s));
    } catch (const corio::timeout_error&) {
      co_return "ok";
    }
    co_return "no timeout";
  };
  REQUIRE(rt.block_on(body()) == "ok");
}

TEST_CASE("timeout: an outside cancel stays cancelled_error, not timeout_error", "[timeout][cancel]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    auto inner = []() -> corio::task<std::string> {
      try {
        co_await corio::wait_for(corio::sleep(10s), 5s);
      } catch (const corio::timeout_error&) {
        co_return "timeout";
      }
      co_return "finished";
    };
    auto h = corio::create_task(inner());
    co_await corio::sleep(5ms);
    h.cancel();
    try {
      co_return co_await h;
    } catch (const corio::cancelled_error&) {
      co_return "cancelled";
    }
  };
  REQUIRE(rt.block_on(body()) == "cancelled");
}

TEST_CASE("timeout: nested timeouts, the one that expired reports", "[timeout]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<std::string> {
    std::string r;
    auto inner_expires = []() -> corio::task<std::string> {
      try {
        co_await corio::timeout(10ms, corio::sleep(10s));
      } catch (const corio::timeout_error&) {
        co_return "inner";
      }
      co_return "none";
    };
    r += co_await corio::timeout(5s, inner_expires());
    auto outer_expires = []() -> corio::task<std::string> {
      try {
        co_await corio::timeout(10s, corio::sleep(10s));
      } catch (const corio::timeout_error&) {
        co_return "inner";
      }
      co_return "none";
    };
    try {
      r += co_await corio::timeout(10ms, outer_expires());
    } catch (const corio::timeout_error&) {
      r += " outer";
    }
    co_return r;
  };
  REQUIRE(rt.block_on(body()) == "inner outer");
}

TEST_CASE("timeout: many short timeouts and many that never fire, under load", "[timeout][stress]") {
  corio::runtime rt({.workers = 2});
  const int n = static_cast<int>(corio_test::scaled(2000));
  auto body = [n]() -> corio::task<int> {
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < n; ++i) {
      auto one = [](int i) -> corio::task<int> {
        try {
          co_await corio::wait_for(corio::sleep(std::chrono::milliseconds(i % 2 ? 1 : 50)), 10ms);
          co_return i % 2 ? 1 : 100; // odd: finished in time
        } catch (const corio::timeout_error&) {
          co_return i % 2 ? 100 : 0; // even: timed out
        }
      };
      hs.push_back(corio::create_task(one(i)));
    }
    int wrong = 0;
    for (auto& h : hs) wrong += (co_await h) == 100;
    co_return wrong;
  };
  REQUIRE(rt.block_on(body()) == 0);
}
