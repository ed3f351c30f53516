#pragma once
// Debug mode's watchdog: a thread that samples every worker a few times per threshold and
// reports a step that has been running longer than the threshold (once per step), diagnoses a
// worker blocked on a std::mutex held by a worker, and prints the tasks on SIGQUIT.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace corio::detail {

struct scheduler_core;

class watchdog {
public:
  watchdog(scheduler_core& core, std::chrono::milliseconds threshold);
  ~watchdog();
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

private:
  void run();
  void check_lock(std::size_t worker, std::chrono::milliseconds held, const void* running);
  void dump_tasks();

  struct seen {
    std::uint64_t step = 0;
    const void* coroutine = nullptr;
    std::chrono::steady_clock::time_point since{};
    bool reported = false;
  };

  scheduler_core& core_;
  std::chrono::milliseconds threshold_;
  std::vector<seen> seen_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t sigquits_seen_ = 0;
  std::thread thread_;
};

} // namespace corio::detail
