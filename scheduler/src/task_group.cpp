// task_group's wait and destructor (task_group.hpp): the part that is not a template.
#include <corio/task_group.hpp>
#include <corio/unhandled_exception.hpp>

namespace corio {

task<void> task_group::wait(std::exception_ptr body_error) {
  if (done_) throw invalid_state_error("corio: task_group::wait() can be awaited only once");
  done_ = true; // no create_task from here on
  auto st = st_;
  detail::task_header* root = co_await detail::current_root_awaiter{};
  const bool body_cancelled = body_error && detail::is_cancellation(body_error);
  bool outer_cancel = false;
  {
    std::lock_guard lock(st->mu);
    st->joining = true;
    if (!st->parent) st->parent = root;
    if (body_error && !body_cancelled) {
      st->errors.insert(st->errors.begin(), body_error); // the body failed: stop the children
      st->abort_locked(false);
    } else if (body_cancelled) {
      // Our own request (a child failed) or someone cancelled the task: decided below.
      st->abort_locked(false);
      outer_cancel = !st->parent_cancel_requested;
    }
  }
  if (co_await detail::task_group_state::wait_awaiter(*st, true)) {
    // The task running the group was cancelled while it waited: stop the children, then still
    // wait for them (they may refer to the caller's frame).
    outer_cancel = true;
    st->abort();
    co_await detail::task_group_state::wait_awaiter(*st, false);
  }
  std::vector<std::exception_ptr> errors;
  bool requested;
  {
    std::lock_guard lock(st->mu);
    errors = std::move(st->errors);
    requested = st->parent_cancel_requested;
  }
  // Withdraw the cancellation the group requested of its own task; if another one is still
  // outstanding, the body's cancelled_error was (also) someone else's and propagates.
  if (requested && detail::uncancel(st->parent) > 0 && body_cancelled) outer_cancel = true;
  if (!errors.empty()) throw exception_group(std::move(errors));
  if (outer_cancel) throw cancelled_error();
}

task_group::~task_group() {
  if (done_ || !st_) return;
  bool running;
  {
    std::lock_guard lock(st_->mu);
    running = !st_->live.empty();
  }
  if (!running) return;
  st_->abort(); // they hold the shared state: nothing dangles, but nobody waits for them either
  report_unhandled_exception(
      std::make_exception_ptr(invalid_state_error("corio: a task_group was destroyed without wait() while "
                                                  "children were running; they were cancelled")),
      "task_group");
}

} // namespace corio
