#include <corio/detail/task_names.hpp>
#include <corio/detail/task_header.hpp>
#include "watchdog.hpp"

#include "scheduler_core.hpp"

#include <corio/debug.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace corio {

namespace {
std::mutex handler_mu;
slow_step_handler& handler_slot() {
  static slow_step_handler h;
  return h;
}

void report(const slow_step_info& info) {
  slow_step_handler h;
  {
    std::lock_guard lock(handler_mu);
    h = handler_slot();
  }
  try {
    if (h) {
      h(info);
      return;
    }
    fmt::print(stderr,
               "corio: a coroutine step has held worker {} for {} ms (task '{}', frame {}); every task queued "
               "behind it waits. Move CPU-bound or blocking work to corio::offload().\n",
               info.worker, info.duration.count(), info.task_name, info.coroutine);
    std::fflush(stderr);
  } catch (...) {
  }
}
} // namespace

slow_step_handler set_slow_step_handler(slow_step_handler handler) {
  std::lock_guard lock(handler_mu);
  return std::exchange(handler_slot(), std::move(handler));
}

bool debug_requested_by_environment() noexcept {
  const char* v = std::getenv("CORIO_DEBUG");
  return v && *v && std::strcmp(v, "0") != 0;
}

} // namespace corio

namespace corio::detail {

watchdog::watchdog(scheduler_core& core, std::chrono::milliseconds threshold)
    : core_(core), threshold_(threshold), seen_(core.workers.size()) {
  thread_ = std::thread([this] { run(); });
}

watchdog::~watchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void watchdog::run() {
  // Four samples per threshold: a slow step is reported between 1 and 1.25 thresholds in.
  const auto period = std::max(threshold_ / 4, std::chrono::milliseconds(1));
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period, [&] { return stop_; })) {
    auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < seen_.size(); ++i) {
      auto& w = *core_.workers[i];
      auto& s = seen_[i];
      std::uint64_t step = w.steps();
      const void* running = w.running();
      if (!running || step != s.step || running != s.coroutine) {
        s = {step, running, now, false};
        continue;
      }
      if (!s.reported && now - s.since >= threshold_) {
        s.reported = true;
        // The name, if the coroutine is a named spawned task's own frame (the address is only a key).
        const std::string name = task_name(header_of(const_cast<void*>(running)));
        report({i, std::chrono::duration_cast<std::chrono::milliseconds>(now - s.since), running, name});
      }
    }
  }
}

} // namespace corio::detail
