#pragma once
// Looking at the tasks a runtime holds: asyncio's Task.get_name(), asyncio.all_tasks() and
// `python -m asyncio ps`.
//
//   auto h = corio::create_task(serve(client), "client 10.0.0.7:5123");  // a name for people
//   auto tasks = co_await corio::all_tasks();         // inside a task: every live task
//   fmt::print("{}", corio::format_tasks(tasks));     // a table: id, state, what it waits in, name
//   auto same = rt.all_tasks();                       // from a thread outside the runtime
//   std::string me = co_await corio::this_task::name();
//
// A task's id is the address of its frame: unique among live tasks, and the number the trace
// (corio/trace.hpp) shows for the same task. Only spawned tasks are listed (a task awaited
// directly runs as part of the one that awaits it). A name costs one entry in a side table, and
// only tasks given one pay for it; they also remember when and by which coroutine they were
// created. State: running (on a worker now), waiting (in a sleep, a socket, a lock... which one
// is shown), ready (queued, or waiting in something corio cannot see), done (finished, its
// join_handle not consumed yet).
#include <corio/task.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corio {

enum class task_state { running, waiting, ready, done };

struct task_snapshot {
  std::uintptr_t id = 0;
  std::string name;                              // "" when it has none
  task_state state = task_state::ready;
  std::string waiting_on;                        // what it waits in, when state == waiting
  std::uintptr_t parent = 0;                     // named tasks: the coroutine that created it (0: unknown)
  std::optional<std::chrono::nanoseconds> age;   // named tasks: since creation
};

std::string_view to_string(task_state s) noexcept;
// One line: "0x7f..  waiting  sleep  'ticker'  age 1.2 s".
std::string describe(const task_snapshot& t);
// A table of tasks, one per line, with a header (asyncio ps).
std::string format_tasks(const std::vector<task_snapshot>& tasks);

// Inside a task: every live spawned task of its runtime (collected on a TBB thread while the
// workers answer between steps, so the caller's worker stays free).
task<std::vector<task_snapshot>> all_tasks();

} // namespace corio
