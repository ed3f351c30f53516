#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/task_group.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {
long square(long x) { return x * x; }
}

TEST_CASE("offload: values, void, move-only results and exceptions as thrown", "[offload]") {
  corio::scheduler s({.workers = 2, .offload_threads = 2});
  auto body = []() -> corio::task<bool> {
    long v = co_await corio::offload(square, 12);
    std::atomic<int> touched{0};
    co_await corio::offload([&touched] { touched = 1; });
    auto p = co_await corio::offload([](int x) { return std::make_unique<int>(x); }, 7);
    std::string text = co_await corio::offload([](std::string a, const std::string& b) { return a + b; },
                                               std::string("ab"), std::string("cd"));
    bool threw = false;
    try {
      co_await corio::offload([]() -> int { throw std::out_of_range("bad index"); });
    } catch (const std::out_of_range& e) {
      threw = std::string(e.what()) == "bad index";
    }
    // The work ran off the workers.
    bool off_worker = co_await corio::offload([] { return corio::scheduler::current() == nullptr; });
    co_return v == 144 && touched == 1 && *p == 7 && text == "abcd" && threw && off_worker;
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("offload: arguments are copied into the job", "[offload]") {
  corio::scheduler s({.workers = 1, .offload_threads = 1});
  auto body = []() -> corio::task<std::size_t> {
    auto job = [] {
      std::vector<int> v(1000, 1); // dies when this function returns...
      return corio::offload([](const std::vector<int>& data) { return data.size(); }, v);
    };
    auto awaitable = job(); // ...before the job runs: it must hold its own copy
    co_return co_await std::move(awaitable);
  };
  REQUIRE(s.block_on(body()) == 1000);
}

TEST_CASE("offload: owning captures and arguments are destroyed exactly once", "[offload]") {
  // The forms the README recommends under GCC 12: a named lambda, or the data as an argument.
  corio::scheduler s({.workers = 1, .offload_threads = 1});
  auto owner = std::make_shared<int>(5);
  auto body = [](std::shared_ptr<int> p) -> corio::task<long> {
    auto job = [p] { return long{*p}; };
    long a = co_await corio::offload(std::move(job));
    long b = co_await corio::offload([](const std::shared_ptr<int>& q) { return long{*q} * 2; }, p);
    co_return a + b;
  };
  REQUIRE(s.block_on(body(owner)) == 15);
  REQUIRE(owner.use_count() == 1);
}

TEST_CASE("offload: a reference result into the copied arguments or captures is valid in the await", "[offload]") {
  // Like a temporary's: the job keeps what the reference points into until the co_await
  // expression has been evaluated (the value is copied out here).
  corio::scheduler s({.workers = 1, .offload_threads = 1});
  const std::string text(200, 'x');
  auto body = [&]() -> corio::task<bool> {
    std::string same = co_await corio::offload([](const std::string& a) -> const std::string& { return a; }, text);
    auto fill = [buf = std::vector<int>(100, 7)]() mutable -> std::vector<int>& {
      buf[0] = 1;
      return buf;
    };
    std::vector<int> filled = co_await corio::offload(std::move(fill));
    co_return same == text && filled.size() == 100 && filled[0] == 1 && filled[99] == 7;
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("offload: 10,000 offloads from 100 tasks at once", "[offload][stress]") {
  corio::scheduler s({.workers = 2, .offload_threads = 2});
  const int per_task = static_cast<int>(corio_test::scaled(100, 4));
  auto body = [&]() -> corio::task<long> {
    std::vector<corio::join_handle<long>> hs;
    for (int t = 0; t < 100; ++t)
      hs.push_back(corio::create_task([](int t, int n) -> corio::task<long> {
        long sum = 0;
        for (int i = 0; i < n; ++i) sum += co_await corio::offload([](long a, long b) { return a + b; }, t, i);
        co_return sum;
      }(t, per_task)));
    long total = 0;
    for (auto& h : hs) total += co_await h;
    co_return total;
  };
  long n = per_task;
  long expected = 100 * (n * (n - 1) / 2) + n * (99 * 100 / 2);
  REQUIRE(s.block_on(body()) == expected);
  // A job is counted until its TBB thread has let go of it, a moment after its waiter resumed.
  for (int i = 0; i < 1000 && s.metrics().offloads_in_flight != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(s.metrics().offloads_in_flight == 0);
}

TEST_CASE("offload: TBB's parallel algorithms run inside an offloaded job", "[offload]") {
  corio::scheduler s({.workers = 1, .offload_threads = 2});
  auto body = []() -> corio::task<bool> {
    long n = 1'000'000;
    long sum = co_await corio::offload([n] {
      return tbb::parallel_reduce(
          tbb::blocked_range<long>(0, n), 0L,
          [](const tbb::blocked_range<long>& r, long acc) {
            for (long i = r.begin(); i != r.end(); ++i) acc += i;
            return acc;
          },
          std::plus<long>());
    });
    int groups = co_await corio::offload([] {
      std::atomic<int> ran{0};
      tbb::task_group g;
      for (int i = 0; i < 16; ++i) g.run([&] { ran++; });
      g.wait(); // fine here: a TBB thread waits for TBB tasks, no worker is involved
      return ran.load();
    });
    co_return sum == n * (n - 1) / 2 && groups == 16;
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("gather: a task, an offload, a sleep and a join handle together", "[offload][gather]") {
  corio::runtime rt({.workers = 2, .offload_threads = 2});
  auto body = []() -> corio::task<bool> {
    auto value = []() -> corio::task<int> { co_return 1; };
    auto h = corio::create_task([]() -> corio::task<std::string> {
      co_await corio::sleep(5ms);
      co_return "joined";
    }());
    auto start = std::chrono::steady_clock::now();
    auto [a, b, c, d] = co_await corio::gather(value(), corio::offload(square, 3), corio::sleep(20ms), std::move(h));
    bool slept = std::chrono::steady_clock::now() - start >= 20ms;
    static_assert(std::is_same_v<decltype(c), corio::unit>);
    // create_task accepts any awaitable too.
    auto t = corio::create_task(corio::offload(square, 5));
    co_return a == 1 && b == 9 && d == "joined" && slept && co_await t == 25;
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("offload: shutdown waits for jobs still running; no use after free", "[offload][shutdown]") {
  std::atomic<int> finished{0};
  {
    corio::scheduler s({.workers = 1, .offload_threads = 2});
    for (int i = 0; i < 4; ++i)
      s.spawn([](std::atomic<int>& finished) -> corio::task<void> {
        co_await corio::offload([&finished] {
          std::this_thread::sleep_for(100ms);
          finished.fetch_add(1);
        });
      }(finished)).detach();
    while (s.metrics().offloads_in_flight < 2) std::this_thread::sleep_for(1ms);
    s.shutdown(); // jobs are mid-flight: it waits, then destroys the tasks that awaited them
    REQUIRE(finished.load() == 4);
  }
  REQUIRE(finished.load() == 4);
}

TEST_CASE("offload: outside a runtime, and after shutdown, is a runtime_error", "[offload]") {
  corio::scheduler s({.workers = 1});
  auto late = [](corio::scheduler& s) {
    s.shutdown();
  };
  auto body = []() -> corio::task<bool> { co_return true; };
  REQUIRE(s.block_on(body()));
  late(s);
  // A coroutine driven by hand, outside any runtime.
  struct manual {
    struct promise_type {
      manual get_return_object() { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
      std::suspend_never initial_suspend() noexcept { return {}; }
      std::suspend_always final_suspend() noexcept { return {}; }
      void return_void() {}
      void unhandled_exception() { error = std::current_exception(); }
      std::exception_ptr error;
    };
    std::coroutine_handle<promise_type> h;
  };
  auto m = []() -> manual { co_await corio::offload(square, 2); }();
  bool threw = false;
  try {
    if (m.h.promise().error) std::rethrow_exception(m.h.promise().error);
  } catch (const corio::runtime_error&) {
    threw = true;
  }
  m.h.destroy();
  REQUIRE(threw);
}

TEST_CASE("debug: a 200 ms busy step is reported; 1 ms steps are not", "[debug]") {
  std::mutex mu;
  std::vector<corio::slow_step_info> reports;
  auto previous = corio::set_slow_step_handler([&](const corio::slow_step_info& info) {
    std::lock_guard lock(mu);
    reports.push_back(info);
  });
  {
    corio::scheduler s({.workers = 2, .debug = true});
    auto spin = [](std::chrono::milliseconds d) -> corio::task<void> {
      auto until = std::chrono::steady_clock::now() + d;
      while (std::chrono::steady_clock::now() < until) {
      }
      co_return;
    };
    auto quick = [&]() -> corio::task<void> {
      for (int i = 0; i < 100; ++i) {
        co_await spin(1ms);
        co_await corio::yield();
      }
    };
    s.block_on(quick());
    {
      std::lock_guard lock(mu);
      REQUIRE(reports.empty());
    }
    s.block_on(spin(200ms));
    std::lock_guard lock(mu);
    REQUIRE(reports.size() == 1);
    REQUIRE(reports[0].duration >= 100ms);
  }
  corio::set_slow_step_handler(std::move(previous));
}
