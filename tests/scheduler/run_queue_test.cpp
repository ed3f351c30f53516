// White-box stress of the local run queue (THE protocol) with 4 slots, where wrap-around, full and
// empty states and owner/thief races are hit constantly. Run under TSan by tools/test.
#include "run_queue.hpp"

#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using small_queue = corio::detail::basic_run_queue<4>;

std::coroutine_handle<> token(std::uintptr_t i) {
  // Fake handles: the queue never resumes what it stores, it only moves it around.
  return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(i << 4));
}
std::uintptr_t id(std::coroutine_handle<> h) { return reinterpret_cast<std::uintptr_t>(h.address()) >> 4; }

} // namespace

TEST_CASE("run_queue: owner pops newest first, thieves take the oldest half", "[run_queue]") {
  small_queue q, thief;
  REQUIRE(q.push_back(token(1)));
  REQUIRE(q.push_back(token(2)));
  REQUIRE(q.push_back(token(3)));
  REQUIRE(q.push_back(token(4)));
  REQUIRE_FALSE(q.push_back(token(5))); // full
  std::size_t moved = 0;
  auto h = q.steal_into(thief, moved);
  REQUIRE(moved == 2);                       // half
  REQUIRE(id(h) == 2);                        // of the oldest two, the thief runs the newer
  REQUIRE(id(thief.pop_back()) == 1);
  REQUIRE(id(q.pop_back()) == 4);             // owner: LIFO
  REQUIRE(id(q.pop_front()) == 3);            // fairness pop: oldest
  REQUIRE(q.pop_back().address() == nullptr); // empty
  REQUIRE(q.push_front(token(9)));
  REQUIRE(q.push_back(token(10)));
  REQUIRE(id(q.pop_front()) == 9);
  REQUIRE(id(q.pop_back()) == 10);
}

TEST_CASE("run_queue: spilling the oldest half when full", "[run_queue]") {
  small_queue q;
  for (std::uintptr_t i = 1; i <= 4; ++i) REQUIRE(q.push_back(token(i)));
  std::coroutine_handle<> out[2];
  REQUIRE(q.take_oldest_half(out) == 2);
  REQUIRE(id(out[0]) == 1);
  REQUIRE(id(out[1]) == 2);
  REQUIRE(q.size() == 2);
  std::coroutine_handle<> batch[2] = {token(5), token(6)};
  REQUIRE(q.push_back_batch(batch, 2));
  REQUIRE_FALSE(q.push_back_batch(batch, 1));
}

TEST_CASE("run_queue: solo mode (one worker, no thieves) behaves like the shared queue", "[run_queue]") {
  // The same owner-only operations on a solo queue (plain stores, no lock) and a shared one: every
  // answer must match, across wrap-arounds, full and empty states.
  small_queue solo, shared;
  solo.set_solo(true);
  std::uint32_t rng = 12345;
  std::uintptr_t next = 1;
  for (int step = 0; step < 20000; ++step) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    switch (rng % 6) {
    case 0:
    case 1: {
      auto h = token(next++);
      REQUIRE(solo.push_back(h) == shared.push_back(h));
      break;
    }
    case 2: REQUIRE(solo.pop_back().address() == shared.pop_back().address()); break;
    case 3: REQUIRE(solo.pop_front().address() == shared.pop_front().address()); break;
    case 4: {
      auto h = token(next++);
      REQUIRE(solo.push_front(h) == shared.push_front(h));
      break;
    }
    case 5: {
      std::coroutine_handle<> a[small_queue::capacity / 2], b[small_queue::capacity / 2];
      std::size_t n = solo.take_oldest_half(a);
      REQUIRE(n == shared.take_oldest_half(b));
      for (std::size_t i = 0; i < n; ++i) REQUIRE(a[i].address() == b[i].address());
      std::coroutine_handle<> batch[2] = {token(next), token(next + 1)};
      next += 2;
      REQUIRE(solo.push_back_batch(batch, 2) == shared.push_back_batch(batch, 2));
      break;
    }
    }
    REQUIRE(solo.size() == shared.size());
  }
}

namespace {

// An owner's queue, thieves that steal from it into queues of their own and drain those, and a
// record of every item taken by anyone. Catch2's assertions are not thread-safe, so takes are
// counted here and checked by the test at the end.
class steal_race {
public:
  steal_race(std::uintptr_t items, int thieves) : items_(items), seen_(items + 1), thief_q_(static_cast<std::size_t>(thieves)) {
    for (auto& mine : thief_q_)
      threads_.emplace_back([this, &mine] {
        while (!done_.load()) {
          std::size_t moved = 0;
          if (auto h = owner_q_.steal_into(mine, moved)) {
            take(h);
            while (auto more = mine.pop_back()) take(more);
          }
        }
      });
  }
  steal_race(const steal_race&) = delete;
  steal_race& operator=(const steal_race&) = delete;
  ~steal_race() { stop(); }

  small_queue& owner() noexcept { return owner_q_; }

  void take(std::coroutine_handle<> h) {
    auto i = id(h);
    if (i < 1 || i > items_ || seen_[i].fetch_add(1) != 0) errors_.fetch_add(1); // never twice
    taken_.fetch_add(1);
  }

  // Thieves may still hold items in flight: waits until everything is accounted for, then stops them.
  void finish() {
    while (taken_.load() < items_) std::this_thread::yield();
    stop();
  }

  int errors() const noexcept { return errors_.load(); }
  std::uintptr_t taken() const noexcept { return taken_.load(); }
  std::uintptr_t taken_once() const noexcept {
    std::uintptr_t once = 0;
    for (std::uintptr_t i = 1; i <= items_; ++i) once += seen_[i].load() == 1;
    return once;
  }

private:
  void stop() {
    done_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  const std::uintptr_t items_;
  std::vector<std::atomic<std::uint8_t>> seen_;
  small_queue owner_q_;
  std::vector<small_queue> thief_q_;
  std::atomic<bool> done_{false};
  std::atomic<std::uintptr_t> taken_{0};
  std::atomic<int> errors_{0};
  std::vector<std::thread> threads_;
};

} // namespace

TEST_CASE("run_queue: every item is taken exactly once under owner/thief races", "[run_queue][stress]") {
  const std::uintptr_t items = corio_test::scaled(400'000, 4);
  steal_race race(items, 3);
  small_queue& owner_q = race.owner();
  auto take = [&](std::coroutine_handle<> h) { race.take(h); };

  std::uintptr_t next = 1;
  while (next <= items) {
    // Owner: a burst of pushes (spilling the oldest half when full), then some pops from both ends.
    for (int k = 0; k < 3 && next <= items; ++k, ++next) {
      if (!owner_q.push_back(token(next))) {
        std::coroutine_handle<> out[2];
        std::size_t n = owner_q.take_oldest_half(out);
        for (std::size_t j = 0; j < n; ++j) take(out[j]);
        if (!owner_q.push_back(token(next))) take(token(next));
      }
    }
    if (next % 5 == 0) {
      if (!owner_q.push_front(token(next)))
        take(token(next));
      ++next;
    }
    if (auto h = owner_q.pop_back()) take(h);
    if (next % 7 == 0)
      if (auto h = owner_q.pop_front()) take(h);
  }
  while (auto h = owner_q.pop_back()) take(h);
  race.finish();
  REQUIRE(race.errors() == 0);
  REQUIRE(race.taken() == items);
  REQUIRE(race.taken_once() == items);
}

TEST_CASE("run_queue: an owner popping its last tasks while thieves claim them takes each once", "[run_queue][stress]") {
  // The owner fills the queue and pops it empty again and again, so most pops race a thief's
  // claim on the same few slots: the claim must be taken back when the owner got there first.
  const std::uintptr_t items = corio_test::scaled(300'000, 4);
  steal_race race(items, 2);
  small_queue& owner_q = race.owner();
  std::uintptr_t next = 1;
  while (next <= items) {
    while (next <= items && owner_q.push_back(token(next))) ++next;
    while (auto h = owner_q.pop_back()) race.take(h);
  }
  race.finish();
  REQUIRE(race.errors() == 0);
  REQUIRE(race.taken() == items);
}
