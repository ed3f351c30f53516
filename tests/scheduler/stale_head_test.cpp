// When the oldest task of a worker's LIFO queue runs ahead of newer work (stale_head.hpp): the
// rule itself with a fake clock, then what it buys on a real scheduler: an old task is not starved
// by a stream of newer ones, and a long fork-join run stays depth-first.
#include "stale_head.hpp"

#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>

namespace {

using namespace std::chrono_literals;
using corio::detail::stale_head_watch;
constexpr std::size_t capacity = 256;

} // namespace

TEST_CASE("stale_head: the head runs after 10 ms at the head, and each new head waits its own 10 ms", "[stale_head]") {
  stale_head_watch w;
  const auto t0 = stale_head_watch::clock::time_point{} + 1h;
  REQUIRE_FALSE(w.due(5, 10, capacity, t0)); // first sight starts the wait
  REQUIRE_FALSE(w.due(5, 10, capacity, t0 + 9ms));
  REQUIRE(w.due(5, 10, capacity, t0 + 10ms));
  w.taken(6, t0 + 10ms);
  REQUIRE_FALSE(w.due(6, 9, capacity, t0 + 19ms));
  REQUIRE(w.due(6, 9, capacity, t0 + 20ms));
}

TEST_CASE("stale_head: a head that moves (stolen, spilled) restarts the wait; an empty queue has none", "[stale_head]") {
  stale_head_watch w;
  const auto t0 = stale_head_watch::clock::time_point{} + 1h;
  REQUIRE_FALSE(w.due(5, 10, capacity, t0));
  REQUIRE_FALSE(w.due(8, 7, capacity, t0 + 9ms)); // a thief took three
  REQUIRE_FALSE(w.due(8, 7, capacity, t0 + 15ms));
  REQUIRE(w.due(8, 7, capacity, t0 + 19ms));
  REQUIRE_FALSE(w.due(8, 0, capacity, t0 + 30ms)); // drained: nothing waits
  REQUIRE_FALSE(w.due(8, 1, capacity, t0 + 35ms)); // a new task at the same position starts afresh
  REQUIRE(w.due(8, 1, capacity, t0 + 45ms));
}

TEST_CASE("stale_head: more than half full, the head waits up to 1 s", "[stale_head]") {
  stale_head_watch w;
  const auto t0 = stale_head_watch::clock::time_point{} + 1h;
  REQUIRE_FALSE(w.due(0, capacity / 2 + 1, capacity, t0));
  REQUIRE_FALSE(w.due(0, capacity / 2 + 1, capacity, t0 + 10ms));
  REQUIRE_FALSE(w.due(0, capacity, capacity, t0 + 999ms));
  REQUIRE(w.due(0, capacity / 2, capacity, t0 + 10ms)); // back to half: the usual bound
  w.taken(1, t0 + 10ms);
  REQUIRE_FALSE(w.due(1, capacity - 1, capacity, t0 + 500ms));
  REQUIRE(w.due(1, capacity - 1, capacity, t0 + 1010ms));
}

TEST_CASE("stale_head: a task queued behind a stream of newer work still runs", "[stale_head][fairness]") {
  // One worker, so nobody steals: `old` sits at the head of the queue while `busy` spawns and
  // awaits one child after another, each child newer than `old` and run first (LIFO).
  corio::scheduler s({.workers = 1});
  std::atomic<bool> old_ran{false};
  auto old_task = [](std::atomic<bool>& ran) -> corio::task<void> {
    ran = true;
    co_return;
  };
  auto child = []() -> corio::task<int> { co_return 1; };
  auto busy = [&](std::atomic<bool>& ran) -> corio::task<bool> {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!ran.load()) {
      if (std::chrono::steady_clock::now() > give_up) co_return false;
      co_await corio::create_task(child());
    }
    co_return true;
  };
  auto body = [&]() -> corio::task<bool> {
    auto o = corio::create_task(old_task(old_ran));
    auto b = corio::create_task(busy(old_ran));
    const bool old_ran_while_busy = co_await b;
    co_await o;
    co_return old_ran_while_busy;
  };
  REQUIRE(s.block_on(body()));
}

namespace {

// A 32-ary tree three levels deep whose leaves each take 20 us of CPU: about 0.7 s on one worker,
// far longer than the 10 ms bound, with a queue of ~93 pending siblings along one path. Counts
// the tree's tasks alive at once (spawned and not finished).
struct tree_probe {
  std::atomic<long> alive{0};
  std::atomic<long> peak{0};
  void spawned(long n) {
    long now = alive.fetch_add(n) + n;
    long p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
  }
};

corio::task<long> tree(tree_probe& probe, int depth) {
  long sum = 1;
  if (depth == 0) {
    const auto until = std::chrono::steady_clock::now() + 20us;
    while (std::chrono::steady_clock::now() < until) {
    }
  } else {
    std::vector<corio::join_handle<long>> children;
    children.reserve(32);
    probe.spawned(32);
    for (int i = 0; i < 32; ++i) children.push_back(corio::create_task(tree(probe, depth - 1)));
    for (auto& c : children) sum += co_await c;
  }
  probe.alive.fetch_sub(1);
  co_return sum;
}

} // namespace

TEST_CASE("stale_head: a long fork-join run on one worker stays depth-first (no spill, few tasks alive)", "[stale_head][fairness]") {
  // Taking a stale head starts another depth-first path on top of the ones in progress; with too
  // many of them the queue spilled to the global queue and the run turned breadth first (skynet
  // with 10M leaves peaked at 125 MiB instead of 4).
  corio::scheduler s({.workers = 1});
  tree_probe probe;
  probe.spawned(1);
  REQUIRE(s.block_on(tree(probe, 3)) == 1 + 32 + 32 * 32 + 32 * 32 * 32);
  const auto m = s.metrics();
  REQUIRE(m.workers.size() == 1);
  CHECK(m.workers[0].overflows == 0);
  // One path holds 3 x 31 pending siblings; a few paths at once stay far below the 33,825 tasks.
  CHECK(probe.peak.load() < 1000);
}
