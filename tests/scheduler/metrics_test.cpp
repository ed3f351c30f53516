// runtime/scheduler metrics: the counters add up, the sampled histograms fill, steals show.
#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

corio::task<int> spin(std::chrono::microseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
  co_return 1;
}

} // namespace

TEST_CASE("metrics: steals happen when one worker spawns and the other idles", "[metrics]") {
  corio::scheduler s({.workers = 2});
  auto body = []() -> corio::task<int> {
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < 200; ++i) hs.push_back(corio::create_task(spin(200us)));
    int sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
  };
  REQUIRE(s.block_on(body()) == 200);
  auto m = s.metrics();
  std::uint64_t stolen = 0, ops = 0, polled = 0;
  for (auto& w : m.workers) {
    stolen += w.stolen;
    ops += w.steal_operations;
    polled += w.polled;
  }
  CHECK(ops > 0);
  CHECK(stolen >= ops); // each steal operation takes at least one task
  CHECK(polled >= 201);
}

TEST_CASE("metrics: poll-time and schedule-latency histograms are sampled, one in 64", "[metrics]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<int> {
    int sum = 0;
    for (int round = 0; round < 20; ++round) {
      std::vector<corio::join_handle<int>> hs;
      for (int i = 0; i < 64; ++i) hs.push_back(corio::create_task(spin(50us)));
      for (auto& h : hs) sum += co_await h;
    }
    co_return sum;
  };
  REQUIRE(s.block_on(body()) == 1280);
  {
    auto m = s.metrics();
    const auto& w = m.workers[0];
    CHECK(w.poll_time.total() >= w.polled / 64 - 1);
    CHECK(w.poll_time.total() <= w.polled / 64 + 1);
    // Most steps are the 50 us spins: the median sampled step is in the 64-128 us bucket or above.
    CHECK(w.poll_time.quantile(0.5) >= 64us);
  }
  // Wake-ups: a producer and a consumer handing items through a one-slot queue wake each other.
  auto relay = []() -> corio::task<long> {
    corio::queue<int> q(1);
    auto producer = [&]() -> corio::task<void> {
      for (int i = 0; i < 2000; ++i) co_await q.put(i);
    };
    auto p = corio::create_task(producer());
    long sum = 0;
    for (int i = 0; i < 2000; ++i) sum += co_await q.get();
    co_await p;
    co_return sum;
  };
  REQUIRE(s.block_on(relay()) == 1999L * 2000 / 2);
  auto m = s.metrics();
  const auto& w = m.workers[0];
  const auto steps = w.poll_time.total();
  CHECK(steps >= w.polled / 64 - 1);
  CHECK(steps <= w.polled / 64 + 1);
  CHECK(m.schedule_latency().total() > 0); // ~4,000 wake-ups, one in 64 followed
  CHECK(m.poll_time().total() == steps);
}

TEST_CASE("metrics: duration_histogram buckets and quantiles", "[metrics]") {
  using h = corio::duration_histogram;
  CHECK(h::bucket_of(0) == 0);
  CHECK(h::bucket_of(255) == 0);
  CHECK(h::bucket_of(256) == 1);
  CHECK(h::bucket_of(511) == 1);
  CHECK(h::bucket_of(1000) == 2); // < 1024
  CHECK(h::bucket_of(~std::uint64_t{0}) == h::size - 1);
  h x;
  CHECK(x.quantile(0.5) == 0ns);
  x.counts[h::bucket_of(300)] = 90;     // 90 samples under 512 ns
  x.counts[h::bucket_of(5'000'000)] = 10; // 10 under ~8.4 ms
  CHECK(x.total() == 100);
  CHECK(x.quantile(0.5) == 512ns);
  CHECK(x.quantile(0.99) == h::upper_bound(h::bucket_of(5'000'000)));
}

TEST_CASE("metrics: the I/O threads' hand-offs are counted", "[metrics][io]") {
  corio::runtime rt({.workers = 2});
  auto body = []() -> corio::task<void> {
    std::vector<corio::task<void>> sleeps;
    auto nap = []() -> corio::task<void> { co_await corio::sleep(1ms); };
    for (int i = 0; i < 100; ++i) sleeps.push_back(nap());
    co_await corio::gather(std::move(sleeps));
  };
  auto before = rt.metrics().io_completions;
  rt.block_on(body());
  CHECK(rt.metrics().io_completions >= before + 100);
}
