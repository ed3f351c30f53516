#include "timer_queue.hpp"

#include <corio/detail/io_resume.hpp>
#include <corio/timer.hpp>

#include <new>

namespace corio::detail {

namespace {

struct sleep_node : timer_node {
  std::coroutine_handle<> waiter{};
  scheduler* sched = nullptr;

  static void on_event(timer_node* t, event e) noexcept {
    auto* n = static_cast<sleep_node*>(t);
    // Fired or removed: either way the sleeper resumes now (it knows which from its awaiter);
    // abandoned: its frame is about to be destroyed by the shutdown.
    if (e != event::abandoned) resume_from_io(*n->sched, n->waiter);
  }
};
static_assert(sizeof(sleep_node) <= sleep_node_size && alignof(sleep_node) <= 8, "sleep_awaiter::node_ too small");

} // namespace

void register_sleep(io_service& io, void* storage, std::chrono::steady_clock::time_point deadline,
                    std::coroutine_handle<> h, scheduler& s) noexcept {
  auto* n = ::new (storage) sleep_node{};
  n->deadline = deadline;
  n->notify = &sleep_node::on_event;
  n->waiter = h;
  n->sched = &s;
  io.add_timer(n);
}

bool cancel_sleep(io_service& io, void* storage) noexcept {
  auto* n = std::launder(reinterpret_cast<sleep_node*>(storage));
  if (!n->try_remove()) return false; // fired first: the sleep completes normally
  io.remove_timer(n, true);
  return true;
}

} // namespace corio::detail
