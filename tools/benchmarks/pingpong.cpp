// ping-pong: two tasks pass a token back and forth; per_op_ns is per hop (one wake-up, one
// suspension). The hand-off is the lightest one possible: a single-waiter signal that wakes
// the other side through the scheduler's door (schedule), i.e. into the waker's LIFO slot.
#include "bench_common.hpp"

#include <corio/corio.hpp>

#include <atomic>

namespace {

// Auto-reset, one waiter, one setter at a time.
class signal {
public:
  bool await_ready() noexcept {
    if (state_.load(std::memory_order_acquire) == set_mark()) {
      state_.store(nullptr, std::memory_order_relaxed);
      return true;
    }
    return false;
  }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    sched_ = corio::scheduler::current();
    void* expected = nullptr;
    if (state_.compare_exchange_strong(expected, h.address(), std::memory_order_acq_rel)) return true;
    state_.store(nullptr, std::memory_order_relaxed); // it was set meanwhile: consume, don't wait
    return false;
  }
  void await_resume() noexcept {}
  void set() noexcept {
    void* prev = state_.exchange(set_mark(), std::memory_order_acq_rel);
    if (prev && prev != set_mark()) {
      state_.store(nullptr, std::memory_order_relaxed);
      sched_->schedule(std::coroutine_handle<>::from_address(prev));
    }
  }

private:
  void* set_mark() noexcept { return this; }
  std::atomic<void*> state_{nullptr};
  corio::scheduler* sched_ = nullptr;
};

corio::task<void> ping(signal& mine, signal& theirs, long rounds) {
  for (long i = 0; i < rounds; ++i) {
    theirs.set();
    co_await mine;
  }
}

corio::task<void> pong(signal& mine, signal& theirs, long rounds) {
  for (long i = 0; i < rounds; ++i) {
    co_await mine;
    theirs.set();
  }
}

corio::task<void> run(long rounds) {
  signal a, b;
  co_await corio::gather(ping(a, b, rounds), pong(b, a, rounds));
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  long threads = a.num("threads", 1);
  long hops = a.num("n", 1'000'000);
  corio::runtime rt({.workers = static_cast<std::size_t>(threads)});
  bench::stopwatch sw;
  rt.block_on(run(hops / 2));
  double secs = sw.seconds();
  bench::report("pingpong", "corio", threads, fmt::format("\"hops\": {}", hops), secs, static_cast<double>(hops));
}
