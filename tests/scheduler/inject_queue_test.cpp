// White-box tests of a global-queue lane: FIFO order across segment boundaries, taking from both
// ends against a model, and concurrent producers with one consumer (run under TSan by tools/test).
#include "inject_queue.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

namespace {

using corio::detail::inject_queue;

std::coroutine_handle<> token(std::uintptr_t i) {
  // Fake handles: the queue never resumes what it stores, it only moves it around.
  return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(i << 4));
}
std::uintptr_t id(std::coroutine_handle<> h) { return reinterpret_cast<std::uintptr_t>(h.address()) >> 4; }

} // namespace

TEST_CASE("inject_queue: oldest first across segment boundaries, batches spanning several segments", "[inject_queue]") {
  inject_queue q;
  std::uintptr_t next_in = 1, next_out = 1;
  std::coroutine_handle<> batch[700];
  // Keep the queue partly full while its head walks through segments (510 slots each), with
  // pushes and pops of up to 700 that start mid-segment and span two or three of them.
  for (int round = 0; round < 40; ++round) {
    const std::size_t in = 300 + static_cast<std::size_t>(round) * 37;
    std::size_t filled = 0;
    for (std::size_t i = 0; i < in; ++i) {
      batch[filled++] = token(next_in++);
      if (filled == 700 || i + 1 == in) {
        q.push_batch(batch, filled);
        filled = 0;
      }
    }
    REQUIRE(q.size() == next_in - next_out);
    std::size_t want = in - 50 + static_cast<std::size_t>(round % 3) * 40;
    while (want > 0) {
      std::size_t got = q.pop_batch(batch, want < 700 ? want : 700);
      REQUIRE(got > 0);
      for (std::size_t i = 0; i < got; ++i) REQUIRE(id(batch[i]) == next_out++);
      want -= got;
    }
  }
  std::size_t got;
  while ((got = q.pop_batch(batch, 700)) > 0)
    for (std::size_t i = 0; i < got; ++i) REQUIRE(id(batch[i]) == next_out++);
  REQUIRE(next_out == next_in);
  REQUIRE(q.size() == 0);
  REQUIRE(q.pop_batch(batch, 1) == 0);
}

TEST_CASE("inject_queue: taking from both ends matches a deque", "[inject_queue]") {
  // Random pushes and pops at either end, in batches of up to 1,200 (two and a half segments),
  // checked against std::deque; the queue grows to several segments and shrinks to empty.
  inject_queue q;
  std::deque<std::uintptr_t> model;
  std::coroutine_handle<> batch[1200];
  std::uintptr_t next = 1;
  std::uint32_t rng = 99;
  auto roll = [&rng](std::uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng % n;
  };
  for (int step = 0; step < 4000; ++step) {
    const std::size_t n = 1 + roll(step % 50 == 0 ? 1200 : 40);
    switch (roll(3)) {
    case 0:
      for (std::size_t i = 0; i < n; ++i) {
        batch[i] = token(next);
        model.push_back(next++);
      }
      q.push_batch(batch, n);
      break;
    case 1: {
      const std::size_t got = q.pop_batch(batch, n);
      REQUIRE(got == std::min(n, model.size() + 0));
      for (std::size_t i = 0; i < got; ++i) {
        REQUIRE(id(batch[i]) == model.front());
        model.pop_front();
      }
      break;
    }
    default: {
      const std::size_t got = q.pop_newest(batch, n);
      REQUIRE(got == std::min(n, model.size() + 0));
      for (std::size_t i = 0; i < got; ++i) {
        REQUIRE(id(batch[i]) == model.back()); // newest first
        model.pop_back();
      }
    }
    }
    REQUIRE(q.size() == model.size());
  }
}

TEST_CASE("inject_queue: clear empties it and it works afterwards", "[inject_queue]") {
  inject_queue q;
  for (std::uintptr_t i = 1; i <= 3000; ++i) q.push(token(i));
  q.clear();
  REQUIRE(q.size() == 0);
  std::coroutine_handle<> out[4];
  REQUIRE(q.pop_batch(out, 4) == 0);
  q.push(token(7));
  q.push(token(8));
  REQUIRE(q.pop_batch(out, 4) == 2);
  REQUIRE(id(out[0]) == 7);
  REQUIRE(id(out[1]) == 8);
}

TEST_CASE("inject_queue: producers on four threads, one consumer, nothing lost or duplicated", "[inject_queue]") {
  inject_queue q;
  constexpr std::uintptr_t per_thread = 20000;
  std::vector<std::thread> producers;
  for (std::uintptr_t t = 0; t < 4; ++t)
    producers.emplace_back([&q, t] {
      std::coroutine_handle<> b[3];
      for (std::uintptr_t i = 0; i < per_thread; i += 3) {
        std::size_t n = 0;
        for (std::uintptr_t j = i; j < i + 3 && j < per_thread; ++j) b[n++] = token(t * per_thread + j + 1);
        q.push_batch(b, n);
      }
    });
  std::vector<std::uintptr_t> last(4, 0); // per producer, items arrive in the order pushed
  std::vector<char> seen(4 * per_thread + 1, 0);
  std::size_t total = 0;
  std::coroutine_handle<> out[64];
  while (total < 4 * per_thread) {
    std::size_t n = q.pop_batch(out, 64);
    for (std::size_t i = 0; i < n; ++i) {
      std::uintptr_t v = id(out[i]);
      REQUIRE(v >= 1);
      REQUIRE(v <= 4 * per_thread);
      REQUIRE(!seen[v]);
      seen[v] = 1;
      std::uintptr_t t = (v - 1) / per_thread;
      REQUIRE(v > last[t]);
      last[t] = v;
    }
    total += n;
    if (n == 0) std::this_thread::yield();
  }
  for (auto& p : producers) p.join();
  REQUIRE(q.size() == 0);
}
