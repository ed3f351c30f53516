// Debug mode's reports (corio/debug.hpp) and the process-wide switch the inline checks read.
#include <corio/debug.hpp>
#include <corio/detail/cancel.hpp>
#include <corio/detail/debug_checks.hpp>
#include <corio/detail/promise.hpp>
#include <corio/detail/task_names.hpp>

#include "await_chain.hpp"
#include "debug_checks_internal.hpp"
#include "symbolize.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstring>
#include <cstdio>
#include <mutex>
#include <utility>

namespace corio::detail {

constinit std::atomic<int> debug_users{0};
constinit thread_local bool destroying_pending_tasks = false;
constinit std::atomic<std::uint64_t> sigquit_requests{0};

namespace {

// CORIO_DEBUG counts as one user for the life of the process.
const bool environment_user = [] {
  if (corio::debug_requested_by_environment()) debug_users.fetch_add(1, std::memory_order_relaxed);
  return true;
}();

std::mutex handler_mu;
debug_handler& handler_slot() {
  static debug_handler* h = new debug_handler; // never destroyed: reports may come at exit
  return *h;
}

extern "C" void on_sigquit(int) { sigquit_requests.fetch_add(1, std::memory_order_relaxed); }

void install_sigquit_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction old {};
    if (::sigaction(SIGQUIT, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) return; // the program's own
    struct sigaction sa {};
    sa.sa_handler = &on_sigquit;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGQUIT, &sa, nullptr);
  });
}

} // namespace

void begin_debug_runtime() {
  debug_users.fetch_add(1, std::memory_order_relaxed);
  install_sigquit_once();
}
void end_debug_runtime() noexcept { debug_users.fetch_sub(1, std::memory_order_relaxed); }

void deliver_debug_report(const corio::debug_report& r) noexcept {
  try {
    debug_handler h;
    {
      std::lock_guard lock(handler_mu);
      h = handler_slot();
    }
    if (h) {
      h(r);
      return;
    }
    std::string text = fmt::format("corio debug: {}\n", r.message) + format_await_chain(r.await_chain);
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
  } catch (...) {
  }
}

void report_never_awaited(const promise_base& p) noexcept {
  if (destroying_pending_tasks) return;
  try {
    corio::debug_report r{corio::debug_event::never_awaited};
    r.function = coroutine_function(p.frame());
    r.message = fmt::format("coroutine {} was never awaited: its task<T> was destroyed before it ran (a missing "
                            "co_await?)",
                            r.function.empty() ? fmt::format("{}", p.frame()) : r.function);
    deliver_debug_report(r);
  } catch (...) {
  }
}

void report_dropped_handle(const task_header* h, bool finished) noexcept {
  if (destroying_pending_tasks) return; // frames destroyed by shutdown drop what they hold
  // Destroyed unfinished by a shutdown, which reported it then.
  if (!(h->state.load(std::memory_order_acquire) & frame_live)) return;
  try {
    corio::debug_report r{corio::debug_event::handle_dropped};
    void* frame = frame_of(const_cast<task_header*>(h));
    r.task = reinterpret_cast<std::uintptr_t>(frame);
    r.name = task_name(h);
    r.function = task_function(h); // debug mode recorded it when the task was spawned
    std::string who = r.name.empty() ? (r.function.empty() ? fmt::format("{:#x}", r.task) : r.function) : "'" + r.name + "'";
    r.message = fmt::format("the join_handle of task {} was dropped without co_await, cancel() or detach(); the task {} "
                            "(call detach() if that is what you mean)",
                            who, finished ? "finished and its result is lost" : "runs on detached");
    deliver_debug_report(r);
  } catch (...) {
  }
}

void report_pending_destroyed(task_header* h) noexcept {
  try {
    corio::debug_report r{corio::debug_event::pending_task_destroyed};
    void* frame = frame_of(h);
    r.task = reinterpret_cast<std::uintptr_t>(frame);
    r.name = task_name(h);
    const cancel_registration* w = waiting_on(h); // nothing runs: no lock needed
    if (w && w->leaf) {
      r.await_chain = name_await_chain(read_await_chain(*w));
      if (!r.await_chain.empty()) r.function = r.await_chain.front().function;
    } else {
      r.function = task_function(h);
    }
    std::string who = r.name.empty() ? (r.function.empty() ? fmt::format("{:#x}", r.task) : r.function)
                                     : fmt::format("'{}' ({})", r.name, r.function.empty() ? "?" : r.function);
    r.message = fmt::format("task {} was destroyed but it is pending: the runtime shut down while it {}{}", who,
                            w ? fmt::format("waited in {}", w->what) : std::string("was ready to run or waited in something corio cannot see"),
                            r.await_chain.empty() ? "" : ", suspended in:");
    deliver_debug_report(r);
  } catch (...) {
  }
}

} // namespace corio::detail

namespace corio {

std::string_view to_string(debug_event e) noexcept {
  switch (e) {
  case debug_event::pending_task_destroyed: return "pending_task_destroyed";
  case debug_event::never_awaited: return "never_awaited";
  case debug_event::handle_dropped: return "handle_dropped";
  case debug_event::lock_across_await: return "lock_across_await";
  }
  return "?";
}

debug_handler set_debug_handler(debug_handler handler) {
  std::lock_guard lock(detail::handler_mu);
  return std::exchange(detail::handler_slot(), std::move(handler));
}

} // namespace corio
