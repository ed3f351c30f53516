#pragma once
// Internal: the std::stop_source a task exposes through this_task::get_stop_token(), kept in a
// side table keyed by the task's header (few tasks ask for one). Cancelling the task requests a
// stop on it; the entry goes away with the task's frame.
#include <corio/detail/task_header.hpp>

#include <stop_token>

namespace corio::detail {

std::stop_token task_stop_token(task_header* root);
void release_stop_source(const task_header* h) noexcept;

} // namespace corio::detail
