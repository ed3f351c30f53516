#include "timer_queue.hpp"

#include <corio/timer.hpp>

#include <new>

namespace corio::detail {

void register_sleep(io_service& io, void* storage, std::chrono::steady_clock::time_point deadline,
                    std::coroutine_handle<> h, scheduler& s) noexcept {
  static_assert(sizeof(timer_node) <= 40 && alignof(timer_node) <= 8, "sleep_awaiter::node_ too small");
  auto* n = ::new (storage) timer_node{};
  n->deadline = deadline;
  n->waiter = h;
  n->sched = &s;
  io.add_timer(n);
}

} // namespace corio::detail
