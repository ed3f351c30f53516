#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string>

namespace {

corio::task<int> answer() { co_return 42; }

corio::task<void> fails() {
  throw std::invalid_argument("bad input");
  co_return;
}

struct counted {
  std::atomic<int>* n;
  ~counted() { n->fetch_add(1); }
};

// Suspends forever (nobody keeps its handle).
struct forever {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};

corio::task<void> straggler(std::atomic<int>& destroyed, std::atomic<int>& started) {
  counted c{&destroyed};
  started.fetch_add(1);
  co_await forever{};
}

} // namespace

TEST_CASE("run: returns the main task's value", "[run]") { REQUIRE(corio::run(answer()) == 42); }

TEST_CASE("run: rethrows the main task's exception as thrown", "[run]") {
  REQUIRE_THROWS_AS(corio::run(fails()), std::invalid_argument);
  try {
    corio::run(fails());
  } catch (const std::invalid_argument& e) {
    REQUIRE(std::string(e.what()) == "bad input");
  }
}

TEST_CASE("run: tasks still pending at the end are destroyed cleanly", "[run]") {
  std::atomic<int> destroyed{0}, started{0};
  auto amain = [](std::atomic<int>& destroyed, std::atomic<int>& started) -> corio::task<int> {
    for (int i = 0; i < 10; ++i) corio::create_task(straggler(destroyed, started)).detach();
    while (started.load() < 10) co_await corio::yield();
    co_return 1;
  };
  REQUIRE(corio::run(amain(destroyed, started), {.workers = 2}) == 1);
  // Every straggler's frame was destroyed, running its locals' destructors.
  REQUIRE(destroyed.load() == 10);
}

TEST_CASE("run: inside a task is a runtime_error", "[run]") {
  auto amain = []() -> corio::task<bool> {
    try {
      corio::run(answer());
    } catch (const corio::runtime_error&) {
      co_return true;
    }
    co_return false;
  };
  REQUIRE(corio::run(amain()));
}
