#pragma once
// A tiny test-and-test-and-set lock for critical sections of a few instructions (registry
// links). It yields the CPU after a short spin because on a 2-vCPU VM the holder may have been
// preempted, and spinning for a whole time slice would waste it.
#include <atomic>
#include <thread>

namespace corio::detail {

class spinlock {
public:
  void lock() noexcept {
    for (;;) {
      if (!flag_.exchange(true, std::memory_order_acquire)) return;
      for (int spins = 0; flag_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64)
          __builtin_ia32_pause();
        else
          std::this_thread::yield();
      }
    }
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

private:
  std::atomic<bool> flag_{false};
};

} // namespace corio::detail
