#pragma once
// Internal: the waiter list every corio synchronisation primitive is built on.
//
// A waiting coroutine's node lives in its awaiter, inside its own frame: waiting allocates
// nothing. The list is intrusive and doubly linked, so a cancelled waiter can be taken out from
// the middle in O(1), and it is FIFO: waiters are woken in the order they started waiting. Each
// primitive guards its list with its own spinlock; a node's queue links are only touched under
// it. Waking goes through the waiter's scheduler (schedule()), never by resuming on the waker's
// stack: the primitive moves the nodes it wakes into a wake_batch under its lock, then wakes the
// batch after unlocking.
//
// Cancellation (cancel.hpp): an awaiter calls prepare(h), then, holding the task's cancel lock,
// gives up if a cancellation is pending, else queues the node under the primitive's lock and
// arm()s it. A cancellation that arrives while the node is still queued takes it out, lets the
// primitive fix its books (`withdrawn`, under its lock), marks it cancelled and wakes it; one
// that arrives after a waker took the node out does nothing (the wake-up wins; the request stays
// pending for the next suspension point). finish() in await_resume throws cancelled_error for a
// cancelled node.
#include <corio/detail/cancel.hpp>
#include <corio/detail/spinlock.hpp>
#include <corio/scheduler.hpp>

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <utility>

namespace corio::detail {

class wait_list;
class wake_batch;

struct wait_node : cancel_registration {
  wait_node() noexcept = default;
  // Awaiters are moved (into gather, timeout...) only before they wait: a move makes a fresh node.
  wait_node(wait_node&&) noexcept {}
  wait_node(const wait_node&) = delete;
  wait_node& operator=(const wait_node&) = delete;
  ~wait_node() { disarm_cancel(root, this); } // a frame destroyed while waiting (shutdown)

  // Records who to resume, and the task whose cancellation it follows (none if !cancellable).
  template <class P>
  void prepare(std::coroutine_handle<P> h, bool cancellable = true) noexcept {
    handle = h;
    sched = scheduler::current();
    root = cancellable ? cancel_root(h, *this) : nullptr;
  }

  // After queuing the node, with `lock` (the task's cancel lock) still held: lets a cancellation
  // take the node out of the queue guarded by `g`.
  void arm(cancel_lock& lock, spinlock& g, void (*on_withdrawn)(wait_node*, wake_batch&) noexcept = nullptr) noexcept {
    // Without a root (the lock follows none) nothing can withdraw the node, and nothing may
    // touch it, not even to read `root`: once the queue's lock was released it may already have
    // been woken, resumed elsewhere and freed. With a root, the waiter's await_resume takes the
    // cancel lock that the caller still holds before anything can free the node.
    if (!lock.follows_a_task()) return;
    guard = &g;
    withdrawn = on_withdrawn;
    on_cancel = &cancel_wait;
    what = "a mutex, event, semaphore, condition, barrier or queue";
    lock.arm(this);
  }

  // In await_resume: stop following cancellation; throws cancelled_error if it was cancelled.
  void finish() {
    if (!root) return;
    task_header* r = std::exchange(root, nullptr); // disarmed once: the destructor has nothing to do
    disarm_cancel(r, this);
    if (cancelled) deliver_cancel(r);
  }
  // Same, for awaiters that must do more before the cancellation surfaces: returns whether it
  // was cancelled, taking the request (the caller throws cancelled_error itself).
  bool finish_quietly() noexcept {
    if (!root) return false;
    task_header* r = std::exchange(root, nullptr);
    disarm_cancel(r, this);
    if (cancelled) consume_cancel(r);
    return cancelled;
  }

  // Resumes the waiter through its scheduler's door (from anywhere, never inline).
  void wake() noexcept {
    if (sched)
      sched->schedule(handle);
    else
      handle.resume(); // a coroutine driven outside any runtime: there is no door to go through
  }

  wait_node* prev = nullptr; // queue links, valid while owner is set (under the guard)
  wait_node* next = nullptr;
  wait_list* owner = nullptr;     // the queue the node waits in; null once taken out
  wait_node* wake_next = nullptr; // link in a wake_batch
  std::coroutine_handle<> handle{};
  scheduler* sched = nullptr;
  task_header* root = nullptr;
  spinlock* guard = nullptr;
  void (*withdrawn)(wait_node*, wake_batch&) noexcept = nullptr;
  bool cancelled = false; // set (before it is woken) when a cancellation took it out

private:
  static void cancel_wait(cancel_registration* r) noexcept;
};

// Nodes taken out of a queue, to be woken (in order) once the primitive's lock is released.
class wake_batch {
public:
  wake_batch() noexcept = default;
  wake_batch(const wake_batch&) = delete;
  wake_batch& operator=(const wake_batch&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  void add(wait_node* n) noexcept {
    n->wake_next = nullptr;
    if (tail_)
      tail_->wake_next = n;
    else
      head_ = n;
    tail_ = n;
  }
  wait_node* pop() noexcept {
    wait_node* n = head_;
    if (n) {
      head_ = n->wake_next;
      if (!head_) tail_ = nullptr;
    }
    return n;
  }

private:
  wait_node* head_ = nullptr;
  wait_node* tail_ = nullptr;
};

// Wakes every node of `batch` (emptying it), in order: waiters of one scheduler go in as one
// batch, so they run in the order they waited.
void wake_all(wake_batch& batch) noexcept;

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
    n->owner = this;
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
    n->owner = nullptr;
    --size_;
  }

  // Moves every node into `out` (in order), leaving this list empty.
  void take_all(wake_batch& out) noexcept {
    while (wait_node* n = pop_front()) out.add(n);
  }

private:
  wait_node head_;
  std::size_t size_ = 0;
};

inline void wait_node::cancel_wait(cancel_registration* r) noexcept {
  auto* n = static_cast<wait_node*>(r);
  wake_batch others;
  {
    std::lock_guard lock(*n->guard);
    if (!n->owner) return; // a waker took it out first: the wake-up wins
    n->owner->remove(n);
    if (n->withdrawn) n->withdrawn(n, others);
    n->cancelled = true;
  }
  n->wake(); // n may be gone once this returns
  wake_all(others);
}

} // namespace corio::detail
