// When the oldest task of a worker's LIFO queue runs ahead of newer work (stale_head.hpp): the
// rule itself with a fake clock, then what it buys on a real scheduler: an old task is not starved
// by a stream of newer ones, and a long fork-join run stays depth-first.
#include "stale_head.hpp"

#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using corio::detail::stale_head_watch;
constexpr std::size_t capacity = 256;

} // namespace

TEST_CASE("stale_head: the oldest task runs after 10 ms as the oldest, and each next one waits its own 10 ms",
          "[stale_head]") {
  stale_head_watch w;
  const auto t0 = stale_head_watch::clock::time_point{} + 1h;
  REQUIRE_FALSE(w.due(5, 10, t0)); // first sight starts the wait
  REQUIRE_FALSE(w.due(5, 10, t0 + 9ms));
  REQUIRE(w.due(5, 10, t0 + 10ms));
  w.taken(6, 9, t0 + 10ms);
  REQUIRE_FALSE(w.due(6, 9, t0 + 19ms));
  REQUIRE(w.due(6, 9, t0 + 20ms));
}

TEST_CASE("stale_head: a new oldest task (stolen, spilled, queue refilled) restarts the wait", "[stale_head]") {
  stale_head_watch w;
  const auto t0 = stale_head_watch::clock::time_point{} + 1h;
  REQUIRE_FALSE(w.due(5, 10, t0));
  REQUIRE_FALSE(w.due(8, 7, t0 + 9ms)); // a thief took three
  REQUIRE_FALSE(w.due(8, 7, t0 + 15ms));
  REQUIRE(w.due(8, 7, t0 + 19ms));
  w.forget();                            // the queue drained
  REQUIRE_FALSE(w.due(8, 1, t0 + 35ms)); // a task at the same position starts afresh
  REQUIRE_FALSE(w.due(8, 1, t0 + 44ms));
  REQUIRE(w.due(8, 1, t0 + 45ms));
}

TEST_CASE("stale_head: while what the last taken task spawned is still queued, the next waits 100 ms", "[stale_head]") {
  stale_head_watch w;
  const auto t0 = stale_head_watch::clock::time_point{} + 1h;
  REQUIRE_FALSE(w.due(1, 50, t0));
  REQUIRE(w.due(1, 50, t0 + 10ms));
  w.taken(2, 49, t0 + 10ms);             // the base: 49
  REQUIRE(w.due(2, 49 + 16, t0 + 20ms)); // within the slack
  // Taken with some remains still queued: they count against the same base, so remains cannot
  // pile up take after take.
  w.taken(3, 64, t0 + 20ms);
  REQUIRE_FALSE(w.due(3, 66, t0 + 30ms)); // beyond the slack: expanding
  REQUIRE_FALSE(w.due(3, 120, t0 + 119ms));
  REQUIRE(w.due(3, 120, t0 + 120ms));
  // A level that stayed up that long is load: it becomes the base, and the usual 10 ms apply.
  w.taken(4, 119, t0 + 120ms);
  REQUIRE(w.due(4, 130, t0 + 130ms));
  // Drained and refilled: a new base.
  w.forget();
  REQUIRE_FALSE(w.due(5, 100, t0 + 200ms));
  REQUIRE(w.due(5, 100, t0 + 210ms));
  w.taken(6, 99, t0 + 210ms);
  REQUIRE(w.due(6, 110, t0 + 220ms));
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

// Counts a tree's tasks alive at once (spawned and not finished).
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

// Every node spawns `width` children and awaits them, `depth` levels down; each leaf spins for
// `leaf_work`. Returns the number of nodes.
corio::task<long> tree(tree_probe& probe, int width, int depth, std::chrono::microseconds leaf_work) {
  long sum = 1;
  if (depth == 0) {
    const auto until = std::chrono::steady_clock::now() + leaf_work;
    while (std::chrono::steady_clock::now() < until) {
    }
  } else {
    std::vector<corio::join_handle<long>> children;
    children.reserve(static_cast<std::size_t>(width));
    probe.spawned(width);
    for (int i = 0; i < width; ++i) children.push_back(corio::create_task(tree(probe, width, depth - 1, leaf_work)));
    for (auto& c : children) sum += co_await c;
  }
  probe.alive.fetch_sub(1);
  co_return sum;
}

} // namespace

TEST_CASE("stale_head: a long fork-join run on one worker stays depth-first (no spill, few tasks alive)",
          "[stale_head][fairness]") {
  // Taking a stale head starts another depth-first path on top of the ones in progress; with too
  // many of them the queue spilled to the global queue and the run turned breadth first (skynet
  // with 10M leaves peaked at 125 MiB instead of 4).
  corio::scheduler s({.workers = 1});
  tree_probe probe;
  probe.spawned(1);
  // 32-ary, three levels, leaves of 20 us: ~0.7 s on one worker, far longer than the 10 ms
  // bound, with ~93 pending siblings along one path.
  REQUIRE(s.block_on(tree(probe, 32, 3, 20us)) == 1 + 32 + 32 * 32 + 32 * 32 * 32);
  const auto m = s.metrics();
  REQUIRE(m.workers.size() == 1);
  CHECK(m.workers[0].overflows == 0);
  // One path holds 3 x 31 pending siblings; a few paths at once stay far below the 33,825 tasks.
  CHECK(probe.peak.load() < 1000);
}

TEST_CASE("stale_head: a backlog of old tasks, spilled ones included, all run behind a stream of newer work",
          "[stale_head][fairness]") {
  // 270 tasks overflow the local queue (256), so the oldest are spilled to the global queue;
  // then one task spawns and awaits a child after another, each newer than all of them.
  constexpr int backlog = 270;
  corio::scheduler s({.workers = 1});
  std::atomic<int> ran{0};
  auto old_task = [](std::atomic<int>& ran) -> corio::task<void> {
    ran.fetch_add(1);
    co_return;
  };
  auto child = []() -> corio::task<int> { co_return 1; };
  auto body = [&]() -> corio::task<bool> {
    std::vector<corio::join_handle<void>> olds;
    for (int i = 0; i < backlog; ++i) olds.push_back(corio::create_task(old_task(ran)));
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (ran.load() < backlog) {
      if (std::chrono::steady_clock::now() > give_up) co_return false;
      co_await corio::create_task(child());
    }
    for (auto& o : olds) co_await o;
    co_return true;
  };
  REQUIRE(s.block_on(body()));
  CHECK(s.metrics().workers[0].overflows >= 1);
}

TEST_CASE("stale_head: a task yielding for ever in front of an old one does not keep it waiting",
          "[stale_head][fairness]") {
  // yield() puts the task at the head, in front of `old`; with newer work never running out, only
  // the fairness rule reaches the head, and it must not keep taking the yielder alone.
  corio::scheduler s({.workers = 1});
  std::atomic<bool> old_ran{false};
  std::atomic<bool> stop{false};
  auto yielder = [](std::atomic<bool>& stop) -> corio::task<void> {
    while (!stop.load()) co_await corio::yield();
  };
  auto old_task = [](std::atomic<bool>& ran) -> corio::task<void> {
    ran = true;
    co_return;
  };
  auto child = []() -> corio::task<int> { co_return 1; };
  auto body = [&]() -> corio::task<bool> {
    auto y = corio::create_task(yielder(stop));
    co_await corio::yield(); // the yielder runs and yields: it is at the head now
    auto o = corio::create_task(old_task(old_ran));
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    bool ok = true;
    while (!old_ran.load()) {
      if (std::chrono::steady_clock::now() > give_up) {
        ok = false;
        break;
      }
      co_await corio::create_task(child());
    }
    stop = true;
    co_await y;
    co_await o;
    co_return ok;
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("stale_head: a busy global queue does not keep the oldest local task waiting", "[stale_head][fairness]") {
  // Every 61st step takes a task from the global queue when it has one; the oldest local task
  // must still be looked at. A foreign thread keeps up to 1,000 tasks waiting there meanwhile,
  // so every such step finds one.
  corio::scheduler s({.workers = 1});
  std::atomic<bool> old_ran{false};
  std::atomic<long> spawned{0};
  std::atomic<long> finished{0};
  auto old_task = [](std::atomic<bool>& ran) -> corio::task<void> {
    ran = true;
    co_return;
  };
  auto child = []() -> corio::task<int> { co_return 1; };
  auto counted = [](std::atomic<long>& finished) -> corio::task<void> {
    finished.fetch_add(1);
    co_return;
  };
  std::atomic<bool> go{false};
  std::thread spawner([&] {
    while (!go.load()) std::this_thread::yield();
    while (!old_ran.load()) {
      if (spawned.load() - finished.load() >= 1000) {
        std::this_thread::yield();
        continue;
      }
      spawned.fetch_add(1);
      s.spawn(counted(finished)).detach();
    }
  });
  auto body = [&]() -> corio::task<bool> {
    auto o = corio::create_task(old_task(old_ran));
    go = true;
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    bool ok = true;
    while (!old_ran.load()) {
      if (std::chrono::steady_clock::now() > give_up) {
        ok = false;
        old_ran = true; // stops the spawner
        break;
      }
      co_await corio::create_task(child());
    }
    co_await o;
    co_return ok;
  };
  const bool ok = s.block_on(body());
  spawner.join();
  REQUIRE(ok);
}

TEST_CASE("stale_head: spilled fork-join work is taken back newest first, so a wide fan-out stays depth-first",
          "[stale_head][fairness]") {
  // Spilled work used to come back oldest first, so every spilled child of the root started
  // before the first finished, and all 160,000 leaves were alive at once.
  constexpr int width = 400;
  corio::scheduler s({.workers = 1});
  tree_probe probe;
  probe.spawned(1);
  // A root spawning 400 tasks that each spawn 400 leaves: wider than the local queue, so both
  // levels spill.
  REQUIRE(s.block_on(tree(probe, width, 2, 0us)) == 1 + long{width} * (1 + width));
  CHECK(s.metrics().workers[0].overflows > 0);
  // The root's children and one child's leaves, with some slack for the fairness rule.
  CHECK(probe.peak.load() < 5 * width);
}
