#pragma once
// Internal: the side table of task names (corio/task_info.hpp). A named task has the
// cancel_named bit in its header; free_frame drops the entry.
#include <corio/detail/task_header.hpp>

#include <string>

namespace corio::detail {

// Before the task is scheduled. Throws std::bad_alloc (the task is then not named).
void name_task(task_header* h, std::string name);
// The name of a spawned task ("" if none). h may be any address: it is only used as a key.
std::string task_name(const task_header* h);
// The function of a task that has an entry (named, or spawned in debug mode), else "".
std::string task_function(const task_header* h);

} // namespace corio::detail
