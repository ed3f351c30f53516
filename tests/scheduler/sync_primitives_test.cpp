// event, semaphore, bounded_semaphore, condition_variable, shared_mutex, barrier, latch.
#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

TEST_CASE("event: waiters wake on set, later waits pass, clear resets; no spurious wake-up", "[event]") {
  corio::scheduler s({.workers = 2});
  auto body = []() -> corio::task<bool> {
    corio::event e;
    std::atomic<int> woke{0};
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < 10; ++i)
      hs.push_back(corio::create_task([](corio::event& e, std::atomic<int>& woke) -> corio::task<void> {
        co_await e.wait();
        if (!e.is_set()) co_return; // woken without a set: counted as missing below
        woke.fetch_add(1);
      }(e, woke)));
    for (int i = 0; i < 20; ++i) co_await corio::yield();
    bool none_early = woke.load() == 0;
    e.set();
    for (auto& h : hs) co_await h;
    co_await e.wait(); // already set: passes
    e.clear();
    co_return none_early && woke.load() == 10 && !e.is_set();
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("semaphore: limits concurrency, FIFO, scoped permits", "[semaphore]") {
  corio::scheduler s({.workers = 4});
  auto body = []() -> corio::task<bool> {
    corio::semaphore sem(3);
    std::atomic<int> inside{0}, peak{0};
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < 50; ++i)
      hs.push_back(corio::create_task([](corio::semaphore& sem, std::atomic<int>& inside, std::atomic<int>& peak) -> corio::task<void> {
        auto p = co_await sem.scoped_acquire();
        int now = inside.fetch_add(1) + 1;
        int prev = peak.load();
        while (now > prev && !peak.compare_exchange_weak(prev, now)) {
        }
        co_await corio::yield();
        inside.fetch_sub(1);
      }(sem, inside, peak)));
    for (auto& h : hs) co_await h;
    co_return peak.load() <= 3 && peak.load() >= 1 && sem.value() == 3;
  };
  REQUIRE(s.block_on(body()));

  auto order = []() -> corio::task<std::vector<int>> {
    corio::semaphore sem(0);
    std::vector<int> got;
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < 5; ++i) {
      hs.push_back(corio::create_task([](corio::semaphore& sem, std::vector<int>& got, int i) -> corio::task<void> {
        co_await sem.acquire();
        got.push_back(i);
      }(sem, got, i)));
      co_await corio::yield();
    }
    sem.release(5);
    for (auto& h : hs) co_await h;
    co_return got;
  };
  corio::scheduler one({.workers = 1});
  REQUIRE(one.block_on(order()) == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("bounded_semaphore: releasing more than acquired is an error", "[semaphore]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<bool> {
    corio::bounded_semaphore sem(2);
    co_await sem.acquire();
    sem.release();
    try {
      sem.release();
    } catch (const corio::invalid_state_error&) {
      co_return sem.value() == 2;
    }
    co_return false;
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("condition_variable: wait_for a predicate under the mutex; notify_one and notify_all", "[condition]") {
  corio::scheduler s({.workers = 4});
  auto body = []() -> corio::task<bool> {
    corio::mutex m;
    corio::condition_variable cv;
    int stage = 0, seen = 0;
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < 8; ++i)
      hs.push_back(corio::create_task([](corio::mutex& m, corio::condition_variable& cv, int& stage, int& seen) -> corio::task<void> {
        co_await m.lock();
        co_await cv.wait_for(m, [&] { return stage == 1; });
        ++seen; // m is held here
        m.unlock();
      }(m, cv, stage, seen)));
    for (int i = 0; i < 20; ++i) co_await corio::yield();
    {
      auto g = co_await m.scoped_lock();
      stage = 1;
      cv.notify_all();
    }
    for (auto& h : hs) co_await h;
    // notify_one wakes exactly one waiter.
    int woken = 0;
    auto one = corio::create_task([](corio::mutex& m, corio::condition_variable& cv, int& woken) -> corio::task<void> {
      co_await m.lock();
      co_await cv.wait(m);
      ++woken;
      m.unlock();
    }(m, cv, woken));
    for (int i = 0; i < 10; ++i) co_await corio::yield();
    {
      auto g = co_await m.scoped_lock();
      cv.notify_one();
    }
    co_await one;
    co_return seen == 8 && woken == 1;
  };
  REQUIRE(s.block_on(body()));

  auto unlocked = []() -> corio::task<bool> {
    corio::mutex m;
    corio::condition_variable cv;
    try {
      co_await cv.wait(m);
    } catch (const corio::invalid_state_error&) {
      co_return true;
    }
    co_return false;
  };
  REQUIRE(s.block_on(unlocked()));
}

TEST_CASE("shared_mutex: many readers together, writers alone, writers not starved", "[shared_mutex]") {
  corio::scheduler s({.workers = 4});
  auto body = []() -> corio::task<bool> {
    corio::shared_mutex rw;
    std::atomic<int> readers{0}, max_readers{0}, writers_inside{0};
    std::atomic<bool> overlap{false};
    long value = 0;
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < 40; ++i) {
      if (i % 8 == 0)
        hs.push_back(corio::create_task([](corio::shared_mutex& rw, std::atomic<int>& readers, std::atomic<int>& w,
                                           std::atomic<bool>& overlap, long& value) -> corio::task<void> {
          auto g = co_await rw.scoped_lock();
          if (w.fetch_add(1) != 0 || readers.load() != 0) overlap = true;
          ++value;
          co_await corio::yield();
          w.fetch_sub(1);
        }(rw, readers, writers_inside, overlap, value)));
      else
        hs.push_back(corio::create_task([](corio::shared_mutex& rw, std::atomic<int>& readers, std::atomic<int>& maxr,
                                           std::atomic<int>& w, std::atomic<bool>& overlap) -> corio::task<void> {
          auto g = co_await rw.scoped_lock_shared();
          int n = readers.fetch_add(1) + 1;
          if (w.load() != 0) overlap = true;
          int prev = maxr.load();
          while (n > prev && !maxr.compare_exchange_weak(prev, n)) {
          }
          co_await corio::yield();
          readers.fetch_sub(1);
        }(rw, readers, max_readers, writers_inside, overlap)));
    }
    for (auto& h : hs) co_await h;
    co_return !overlap.load() && value == 5;
  };
  REQUIRE(s.block_on(body()));

  // Writer preference: with readers inside and a writer queued, a new reader waits.
  auto pref = []() -> corio::task<bool> {
    corio::shared_mutex rw;
    co_await rw.lock_shared();
    bool writer_done = false;
    auto w = corio::create_task([](corio::shared_mutex& rw, bool& done) -> corio::task<void> {
      co_await rw.lock();
      done = true;
      rw.unlock();
    }(rw, writer_done));
    co_await corio::yield(); // the writer queues
    bool reader_blocked = !rw.try_lock_shared();
    rw.unlock_shared();
    co_await w;
    co_return reader_blocked && writer_done;
  };
  corio::scheduler one({.workers = 1});
  REQUIRE(one.block_on(pref()));
}

TEST_CASE("barrier: all parties go on together, arrival indices, reusable, abort breaks it", "[barrier]") {
  corio::scheduler s({.workers = 4});
  auto body = []() -> corio::task<bool> {
    corio::barrier b(4);
    std::atomic<int> before{0};
    std::atomic<bool> early{false};
    std::vector<corio::join_handle<std::size_t>> hs;
    for (int round = 0; round < 2; ++round) {
      hs.clear();
      for (int i = 0; i < 4; ++i)
        hs.push_back(corio::create_task([](corio::barrier& b, std::atomic<int>& before, std::atomic<bool>& early) -> corio::task<std::size_t> {
          before.fetch_add(1);
          auto idx = co_await b.wait();
          if (before.load() % 4 != 0) early = true; // someone passed before all arrived
          co_return idx;
        }(b, before, early)));
      std::vector<std::size_t> idx;
      for (auto& h : hs) idx.push_back(co_await h);
      std::sort(idx.begin(), idx.end());
      if (idx != std::vector<std::size_t>{0, 1, 2, 3}) co_return false;
    }
    // abort: a waiter gets broken_barrier_error, and so does a later wait.
    auto waiting = corio::create_task([](corio::barrier& b) -> corio::task<bool> {
      try {
        co_await b.wait();
      } catch (const corio::broken_barrier_error&) {
        co_return true;
      }
      co_return false;
    }(b));
    for (int i = 0; i < 10; ++i) co_await corio::yield();
    b.abort();
    bool broke = co_await waiting;
    bool later = false;
    try {
      co_await b.wait();
    } catch (const corio::broken_barrier_error&) {
      later = true;
    }
    b.reset();
    co_return !early.load() && broke && later && !b.broken();
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("latch: waits until counted down to zero; below zero is an error", "[latch]") {
  corio::scheduler s({.workers = 4});
  auto body = []() -> corio::task<bool> {
    corio::latch l(5);
    std::atomic<int> passed{0};
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < 3; ++i)
      hs.push_back(corio::create_task([](corio::latch& l, std::atomic<int>& p) -> corio::task<void> {
        co_await l.wait();
        p.fetch_add(1);
      }(l, passed)));
    for (int i = 0; i < 4; ++i) {
      l.count_down();
      co_await corio::yield();
    }
    bool none_yet = passed.load() == 0 && !l.try_wait();
    l.count_down();
    for (auto& h : hs) co_await h;
    bool error = false;
    try {
      l.count_down();
    } catch (const corio::invalid_state_error&) {
      error = true;
    }
    co_return none_yet && passed.load() == 3 && l.try_wait() && error;
  };
  REQUIRE(s.block_on(body()));
}
