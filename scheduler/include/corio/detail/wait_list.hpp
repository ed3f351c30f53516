#pragma once
// Internal: the waiter list every corio synchronisation primitive is built on.
//
// A waiting coroutine's node lives in its awaiter, inside its own frame: waiting allocates
// nothing. The list is intrusive and doubly linked, so a waiter can be taken out from the
// middle in O(1) (the cancellation protocol needs that), and it is FIFO: waiters are woken in
// the order they started waiting. Each primitive guards its list with its own spinlock; nodes
// are only touched under it. Waking goes through the waiter's scheduler (schedule()), never by
// resuming on the waker's stack.
#include <corio/scheduler.hpp>

#include <coroutine>
#include <cstddef>

namespace corio::detail {

struct wait_node {
  wait_node* prev = nullptr;
  wait_node* next = nullptr;
  std::coroutine_handle<> handle{};
  scheduler* sched = nullptr;
  bool linked = false;

  // Records who to resume; call in await_suspend before linking.
  void prepare(std::coroutine_handle<> h) noexcept {
    handle = h;
    sched = scheduler::current();
  }
  // Resumes the waiter through its scheduler's door (from anywhere, never inline).
  void wake() noexcept {
    if (sched)
      sched->schedule(handle);
    else
      handle.resume(); // a coroutine driven outside any runtime: there is no door to go through
  }
};

class wait_list;

// Wakes every node of `list` (emptying it), in order: waiters of one scheduler go in as one batch,
// so they run in the order they waited.
void wake_all(wait_list& list) noexcept;

class wait_list {
public:
  wait_list() noexcept { head_.prev = head_.next = &head_; }
  wait_list(const wait_list&) = delete;
  wait_list& operator=(const wait_list&) = delete;

  bool empty() const noexcept { return head_.next == &head_; }
  std::size_t size() const noexcept { return size_; }

  void push_back(wait_node* n) noexcept {
    n->next = &head_;
    n->prev = head_.prev;
    head_.prev->next = n;
    head_.prev = n;
    n->linked = true;
    ++size_;
  }

  wait_node* front() noexcept { return empty() ? nullptr : head_.next; }

  wait_node* pop_front() noexcept {
    if (empty()) return nullptr;
    wait_node* n = head_.next;
    remove(n);
    return n;
  }

  void remove(wait_node* n) noexcept {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
    n->linked = false;
    --size_;
  }

  // Moves every node into `out` (in order), leaving this list empty.
  void take_all(wait_list& out) noexcept {
    while (wait_node* n = pop_front()) out.push_back(n);
  }

private:
  wait_node head_;
  std::size_t size_ = 0;
};

} // namespace corio::detail
