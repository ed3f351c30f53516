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
//
// Await chains (`python -m asyncio pstree`): for a waiting task, the coroutines that await each
// other, from the task's own coroutine to the one suspended in `waiting_on`, each with its
// function's name (read from the program's symbol tables: "" for a stripped binary):
//
//   0x7f3a2c001e30  waiting  in a stream read  'client 10.0.0.7:5123'
//       serve_client(corio::tcp_stream)
//       -> read_request(corio::stream_reader&)
//       -> read_header_line(corio::stream_reader&)
//
// Debug mode (debug.hpp) also prints every runtime's tasks this way on SIGQUIT (Ctrl-\).
#include <corio/task.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corio {

enum class task_state { running, waiting, ready, done };

// One coroutine of an await chain.
struct await_frame {
  std::uintptr_t frame = 0; // the coroutine frame's address (the task's id for the outermost)
  std::string function;     // "serve_client(corio::tcp_stream)", or "" if it cannot be told
};

struct task_snapshot {
  std::uintptr_t id = 0;
  std::string name;                              // "" when it has none
  std::string function;                          // named tasks (all in debug mode): its coroutine's function
  task_state state = task_state::ready;
  std::string waiting_on;                        // what it waits in, when state == waiting
  std::uintptr_t parent = 0;                     // named tasks (all in debug mode): the coroutine that created it (0: unknown)
  std::optional<std::chrono::nanoseconds> age;   // named tasks: since creation
  // state == waiting: the task's coroutine first, the suspended one last. A chain that passes
  // through a coroutine that is not a corio task starts there, with an entry whose frame is 0.
  std::vector<await_frame> await_chain;
};

std::string_view to_string(task_state s) noexcept;
// One line: "0x7f..  waiting  sleep  'ticker'  age 1.2 s".
std::string describe(const task_snapshot& t);
// A table of tasks, one per line, with a header (asyncio ps).
std::string format_tasks(const std::vector<task_snapshot>& tasks);
// Each task on a line of its own followed by its await chain, one coroutine per line (asyncio
// pstree): what you want to read when something hangs.
std::string format_await_chains(const std::vector<task_snapshot>& tasks);

// Inside a task: every live spawned task of its runtime (collected on a TBB thread while the
// workers answer between steps, so the caller's worker stays free).
task<std::vector<task_snapshot>> all_tasks();

} // namespace corio
