#include <corio/detail/task_names.hpp>
#include <corio/detail/task_header.hpp>
#include "watchdog.hpp"

#include "debug_checks_internal.hpp"
#include "scheduler_core.hpp"
#include "worker.hpp"

#include <corio/debug.hpp>

#include <fmt/core.h>

#include <sys/syscall.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
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

namespace {

// The futex word a thread is blocked on, or 0 (it runs, or waits in something else). Reads
// /proc/self/task/<tid>/syscall: "<nr> <arg1> ..." while the thread is inside a system call.
std::uintptr_t futex_wait_address(int tid) {
#if defined(__linux__) && defined(__x86_64__)
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long nr = -1;
  std::string arg;
  if (!(in >> nr >> arg) || nr != SYS_futex) return 0;
  return static_cast<std::uintptr_t>(std::strtoull(arg.c_str(), nullptr, 16));
#else
  (void)tid;
  return 0;
#endif
}

// The thread that holds a locked glibc pthread mutex whose futex word is at `word`, or 0. In
// glibc's x86-64 pthread_mutex_t the lock word comes first and the owner's tid 8 bytes in; the
// owner is recorded for every mutex type std::mutex and std::timed_mutex use.
int mutex_owner(std::uintptr_t word) {
#if defined(__GLIBC__) && defined(__x86_64__)
  const auto* m = reinterpret_cast<const int*>(word);
  if (__atomic_load_n(m, __ATOMIC_RELAXED) == 0) return 0; // not locked (any more)
  return __atomic_load_n(m + 2, __ATOMIC_RELAXED);
#else
  (void)word;
  return 0;
#endif
}

} // namespace

watchdog::watchdog(scheduler_core& core, std::chrono::milliseconds threshold)
    : core_(core), threshold_(threshold), seen_(core.workers.size()),
      sigquits_seen_(sigquit_requests.load(std::memory_order_relaxed)) {
  begin_debug_runtime();
  thread_ = std::thread([this] { run(); });
}

watchdog::~watchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  end_debug_runtime();
}

void watchdog::check_lock(std::size_t index, std::chrono::milliseconds held, const void* running) {
  const int tid = core_.workers[index]->tid();
  if (tid == 0) return;
  const std::uintptr_t word = futex_wait_address(tid);
  if (word == 0) return;
  const int owner = mutex_owner(word);
  if (owner == 0) return;
  std::size_t holder = core_.workers.size();
  for (std::size_t j = 0; j < core_.workers.size(); ++j)
    if (core_.workers[j]->tid() == owner) holder = j;
  if (holder == core_.workers.size()) return; // held by a thread outside the runtime: only slow
  corio::debug_report r{corio::debug_event::lock_across_await};
  r.task = reinterpret_cast<std::uintptr_t>(running);
  r.name = task_name(header_of(const_cast<void*>(running)));
  r.message = fmt::format(
      "worker {} has been blocked for {} ms locking a std::mutex (at {:#x}) that {} holds: a lock "
      "guard kept across a co_await? The coroutine that locked it suspended with it locked{}. Hold "
      "std::mutex only between two suspension points; use corio::mutex across them.",
      index, held.count(), word, holder == index ? "this same worker thread" : fmt::format("worker {}", holder),
      holder == index ? ", and this worker now waits for itself (a deadlock)" : "");
  deliver_debug_report(r);
}

void watchdog::dump_tasks() {
  try {
    auto tasks = core_.owner.all_tasks();
    std::string text = fmt::format("corio debug: SIGQUIT: {} task(s) of runtime {}\n", tasks.size(),
                                   static_cast<const void*>(&core_.owner));
    text += format_await_chains(tasks);
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
  } catch (...) {
  }
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
        const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(now - s.since);
        report({i, held, running, name});
        check_lock(i, held, running);
      }
    }
    if (auto q = sigquit_requests.load(std::memory_order_relaxed); q != sigquits_seen_) {
      sigquits_seen_ = q;
      lock.unlock(); // all_tasks takes up to a second when a worker is stuck
      dump_tasks();
      lock.lock();
    }
  }
}

} // namespace corio::detail
