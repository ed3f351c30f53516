#pragma once
// The I/O thread's timers. sleep() does not give each sleeper an Asio timer: it links a node
// that lives in the sleeping coroutine's frame (no allocation) into a lock-free incoming stack;
// the I/O thread moves new nodes into a binary heap it alone owns, sleeps in the reactor until
// the earliest deadline, and hands every expired sleeper to the scheduler in one batch.
//
// No sleeper is missed: a worker pushes its node (seq_cst) and then reads the deadline the I/O
// thread will wake for; the I/O thread publishes that deadline (seq_cst) and then looks at the
// incoming stack once more before blocking. One of the two sees the other, and the worker wakes
// the I/O thread when its node is due earlier than that deadline.
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace corio {
class scheduler;
}

namespace corio::detail {

struct timer_node {
  using clock = std::chrono::steady_clock;
  clock::time_point deadline;
  std::coroutine_handle<> waiter{};
  scheduler* sched = nullptr;
  timer_node* next_incoming = nullptr;
  std::size_t heap_index = 0;
};

class timer_queue {
public:
  using clock = timer_node::clock;

  // Any thread. Returns true when the I/O thread must be woken to notice the new deadline.
  bool add(timer_node* n) noexcept {
    timer_node* top = incoming_.load(std::memory_order_relaxed);
    do {
      n->next_incoming = top;
    } while (!incoming_.compare_exchange_weak(top, n, std::memory_order_seq_cst, std::memory_order_relaxed));
    return ticks(n->deadline) < armed_.load(std::memory_order_seq_cst);
  }

  // I/O thread: moves new nodes into the heap, then publishes the deadline it will sleep until
  // (never if none). Returns that deadline; `recheck` is set if nodes arrived meanwhile.
  clock::time_point prepare_wait(bool& recheck) noexcept {
    drain_incoming();
    auto next = heap_.empty() ? clock::time_point::max() : heap_.front()->deadline;
    armed_.store(heap_.empty() ? never : ticks(next), std::memory_order_seq_cst);
    recheck = incoming_.load(std::memory_order_seq_cst) != nullptr;
    return next;
  }

  // I/O thread: removes every node due at `now` and passes its waiter to `fire`.
  template <class F>
  void expire(clock::time_point now, F&& fire) {
    drain_incoming();
    while (!heap_.empty() && heap_.front()->deadline <= now) {
      timer_node* n = pop_front();
      fire(n->sched, n->waiter);
    }
  }

  // Forgets every node without touching it (shutdown: their frames are about to be destroyed).
  void abandon() noexcept {
    incoming_.store(nullptr, std::memory_order_relaxed);
    heap_.clear();
  }

  std::size_t size() const noexcept { return heap_.size(); }

private:
  static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
  static std::int64_t ticks(clock::time_point t) noexcept { return t.time_since_epoch().count(); }

  void drain_incoming() {
    timer_node* n = incoming_.exchange(nullptr, std::memory_order_acquire);
    while (n) {
      timer_node* next = n->next_incoming;
      push(n);
      n = next;
    }
  }
  void push(timer_node* n) {
    n->heap_index = heap_.size();
    heap_.push_back(n);
    sift_up(n->heap_index);
  }
  timer_node* pop_front() {
    timer_node* top = heap_.front();
    timer_node* last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) {
      heap_[0] = last;
      last->heap_index = 0;
      sift_down(0);
    }
    return top;
  }
  void sift_up(std::size_t i) {
    while (i > 0) {
      std::size_t parent = (i - 1) / 2;
      if (!(heap_[i]->deadline < heap_[parent]->deadline)) break;
      swap_nodes(i, parent);
      i = parent;
    }
  }
  void sift_down(std::size_t i) {
    for (;;) {
      std::size_t l = 2 * i + 1, r = l + 1, m = i;
      if (l < heap_.size() && heap_[l]->deadline < heap_[m]->deadline) m = l;
      if (r < heap_.size() && heap_[r]->deadline < heap_[m]->deadline) m = r;
      if (m == i) break;
      swap_nodes(i, m);
      i = m;
    }
  }
  void swap_nodes(std::size_t a, std::size_t b) {
    std::swap(heap_[a], heap_[b]);
    heap_[a]->heap_index = a;
    heap_[b]->heap_index = b;
  }

  std::atomic<timer_node*> incoming_{nullptr};
  std::atomic<std::int64_t> armed_{never};
  std::vector<timer_node*> heap_;
};

} // namespace corio::detail
