// Task names (a side table), task snapshots for all_tasks(), and their text forms.
#include <corio/task_info.hpp>

#include <corio/detail/cancel.hpp>
#include <corio/detail/frame_alloc.hpp>
#include <corio/detail/task_names.hpp>
#include <corio/offload.hpp>
#include <corio/scheduler.hpp>

#include "await_chain.hpp"
#include "scheduler_core.hpp"
#include "symbolize.hpp"
#include "worker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace corio::detail {

namespace {

struct name_entry {
  std::string name;
  std::uintptr_t parent = 0;
  std::chrono::steady_clock::time_point created;
  const void* code = nullptr; // the coroutine's resume function, read before the task first runs
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
  std::memcpy(&e.code, frame_of(h), sizeof e.code); // not scheduled yet: nothing else touches it
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

std::string task_function(const task_header* h) {
  name_entry e;
  return lookup(h, e) ? function_at(e.code) : std::string();
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

std::vector<raw_frame> read_await_chain(const cancel_registration& r) {
  std::vector<raw_frame> chain;
  const promise_base* p = r.leaf;
  // The bound only guards against a corrupted chain: real ones are a few coroutines deep.
  for (int depth = 0; p && depth < 100'000; ++depth) {
    const void* frame = p->frame();
    const void* resume = nullptr;
    std::memcpy(&resume, frame, sizeof resume);
    chain.push_back({frame, resume});
    if (p->spawned_) break; // the task's own coroutine
    if (!p->awaited_by_task_ || !p->continuation_) {
      chain.push_back({}); // awaited by something that is not a corio task
      break;
    }
    p = reinterpret_cast<const promise_base*>(static_cast<const char*>(p->continuation_.address()) + promise_base::promise_offset);
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::string format_await_chain(const std::vector<await_frame>& chain) {
  std::string out;
  bool first = true;
  for (auto& f : chain) {
    const std::string fn = f.frame == 0 ? std::string("(a coroutine that is not a corio task)")
                           : f.function.empty() ? fmt::format("coroutine {:#x}", f.frame)
                                                : fmt::format("{}  [{:#x}]", f.function, f.frame);
    out += fmt::format("    {}{}\n", first ? "" : "-> ", fn);
    first = false;
  }
  return out;
}

std::vector<await_frame> name_await_chain(const std::vector<raw_frame>& raw) {
  std::vector<await_frame> out;
  out.reserve(raw.size());
  for (const raw_frame& f : raw)
    out.push_back({reinterpret_cast<std::uintptr_t>(f.frame), f.frame ? function_at(f.resume) : std::string()});
  return out;
}

void task_collector::add(task_header* h) {
  task_snapshot s;
  s.id = reinterpret_cast<std::uintptr_t>(frame_of(h));
  if (h->state.load(std::memory_order_acquire) & completed) {
    s.state = task_state::done;
  } else {
    std::vector<raw_frame> chain;
    lock_cancel(h);
    const cancel_registration* r = waiting_on(h);
    const char* what = r ? r->what : nullptr;
    if (r) chain = read_await_chain(*r);
    unlock_cancel(h);
    if (what) {
      s.state = task_state::waiting;
      s.waiting_on = what;
      s.await_chain = name_await_chain(chain);
    }
  }
  if (h->cancel.load(std::memory_order_acquire) & cancel_named) {
    name_entry e;
    if (lookup(h, e)) {
      s.name = std::move(e.name);
      s.function = function_at(e.code);
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

std::string format_await_chains(const std::vector<task_snapshot>& tasks) {
  std::string out;
  for (auto& t : tasks) {
    out += describe(t);
    out += '\n';
    out += detail::format_await_chain(t.await_chain);
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
