// Task names (a side table), task snapshots for all_tasks(), and their text forms.
#include <corio/task_info.hpp>

#include <corio/detail/cancel.hpp>
#include <corio/detail/frame_alloc.hpp>
#include <corio/detail/task_names.hpp>
#include <corio/offload.hpp>
#include <corio/scheduler.hpp>

#include "scheduler_core.hpp"
#include "worker.hpp"

#include <fmt/format.h>

#include <mutex>
#include <unordered_map>

namespace corio::detail {

namespace {

struct name_entry {
  std::string name;
  std::uintptr_t parent = 0;
  std::chrono::steady_clock::time_point created;
};

struct name_table {
  std::mutex mu;
  std::unordered_map<const task_header*, name_entry> entries;
};
// Never destroyed: frames may be freed while the process exits.
name_table& names() {
  static name_table* t = new name_table;
  return *t;
}

bool lookup(const task_header* h, name_entry& out) {
  auto& t = names();
  std::lock_guard lock(t.mu);
  auto it = t.entries.find(h);
  if (it == t.entries.end()) return false;
  out = it->second;
  return true;
}

} // namespace

void name_task(task_header* h, std::string name) {
  name_entry e{std::move(name), 0, std::chrono::steady_clock::now()};
  if (worker* w = worker::current()) e.parent = reinterpret_cast<std::uintptr_t>(w->running());
  auto& t = names();
  {
    std::lock_guard lock(t.mu);
    t.entries.insert_or_assign(h, std::move(e));
  }
  h->cancel.fetch_or(cancel_named, std::memory_order_acq_rel);
}

std::string task_name(const task_header* h) {
  name_entry e;
  return lookup(h, e) ? e.name : std::string();
}

void release_task_name(const task_header* h) noexcept {
  name_entry dropped; // its string is freed outside the lock
  auto& t = names();
  std::lock_guard lock(t.mu);
  auto it = t.entries.find(h);
  if (it == t.entries.end()) return;
  dropped = std::move(it->second);
  t.entries.erase(it);
}

void task_collector::add(task_header* h) {
  task_snapshot s;
  s.id = reinterpret_cast<std::uintptr_t>(frame_of(h));
  if (h->state.load(std::memory_order_acquire) & completed) {
    s.state = task_state::done;
  } else {
    lock_cancel(h);
    const cancel_registration* r = h->waiting_on;
    const char* what = r ? r->what : nullptr;
    unlock_cancel(h);
    if (what) {
      s.state = task_state::waiting;
      s.waiting_on = what;
    }
  }
  if (h->cancel.load(std::memory_order_acquire) & cancel_named) {
    name_entry e;
    if (lookup(h, e)) {
      s.name = std::move(e.name);
      s.parent = e.parent;
      s.age = std::chrono::steady_clock::now() - e.created;
    }
  }
  tasks.push_back(std::move(s));
}

} // namespace corio::detail

namespace corio {

std::string_view to_string(task_state s) noexcept {
  switch (s) {
  case task_state::running: return "running";
  case task_state::waiting: return "waiting";
  case task_state::ready: return "ready";
  case task_state::done: return "done";
  }
  return "?";
}

std::string describe(const task_snapshot& t) {
  std::string out = fmt::format("{:#x}  {:<7}", t.id, to_string(t.state));
  if (t.state == task_state::waiting) out += fmt::format("  in {}", t.waiting_on);
  if (!t.name.empty()) out += fmt::format("  '{}'", t.name);
  if (t.age) out += fmt::format("  age {:.3f} s", std::chrono::duration<double>(*t.age).count());
  if (t.parent) out += fmt::format("  created by {:#x}", t.parent);
  return out;
}

std::string format_tasks(const std::vector<task_snapshot>& tasks) {
  std::string out = fmt::format("{:<16}  {:<7}  {:<10}  {:<24}  {}\n", "id", "state", "age", "name", "waiting in");
  for (auto& t : tasks) {
    std::string age = t.age ? fmt::format("{:.3f} s", std::chrono::duration<double>(*t.age).count()) : "-";
    out += fmt::format("{:<#16x}  {:<7}  {:<10}  {:<24}  {}\n", t.id, to_string(t.state), age, t.name.empty() ? "-" : t.name,
                       t.state == task_state::waiting ? t.waiting_on : "");
  }
  return out;
}

task<std::vector<task_snapshot>> all_tasks() {
  scheduler* s = scheduler::current();
  if (!s) throw runtime_error("corio: all_tasks() awaited outside a corio runtime");
  // Off the workers: each worker answers between two of its steps, this one included.
  auto gather_all = [s] { return s->all_tasks(); };
  co_return co_await offload(gather_all);
}

} // namespace corio
