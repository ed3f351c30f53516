#pragma once
// The I/O thread's timers. sleep() does not give each sleeper an Asio timer: it links a node
// that lives in the sleeping coroutine's frame (no allocation) into a lock-free incoming stack;
// the I/O thread moves new nodes into a binary heap it alone owns, sleeps in the reactor until
// the earliest deadline, and hands every expired sleeper to the scheduler in one batch.
//
// A node can be removed before it fires (a cancelled sleep, a timeout scope left early): its
// owner wins the node's state (armed -> removed) and pushes it onto a lock-free removal stack;
// the I/O thread takes it out of the heap and tells the node (event::removed). Whoever wins the
// state owns what happens next, so a node fires or is removed, never both. Sleep nodes live in
// the sleeper's frame, which waits for the removal to be done (the I/O thread is woken at once);
// timeout nodes are allocated and freed by the last of their two owners, and their removals are
// batched (the I/O thread is woken only when many have piled up).
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
  enum class event { fired, removed, abandoned };
  static constexpr std::uint32_t armed = 0, fired = 1, removed = 2;
  static constexpr std::uint32_t not_in_heap = static_cast<std::uint32_t>(-1);

  clock::time_point deadline;
  // What the I/O thread does with the node: fired (it won the state), removed (taken out after
  // its owner won the state), abandoned (the runtime stops; its frame is about to be destroyed).
  void (*notify)(timer_node*, event) noexcept = nullptr;
  timer_node* next_incoming = nullptr;
  timer_node* next_removed = nullptr;
  std::uint32_t heap_index = not_in_heap;
  std::atomic<std::uint32_t> state{armed};

  // The owner's side: true if the node will not fire (it is now being removed).
  bool try_remove() noexcept {
    std::uint32_t expected = armed;
    return state.compare_exchange_strong(expected, removed, std::memory_order_acq_rel);
  }
};

class timer_queue {
public:
  using clock = timer_node::clock;

  // Any thread. Returns true when the I/O thread must be woken to notice the new deadline.
  bool add(timer_node* n) noexcept {
    // Read before publishing: a node may fire and its sleeper free it as soon as it is pushed.
    const auto t = ticks(n->deadline);
    timer_node* top = incoming_.load(std::memory_order_relaxed);
    do {
      n->next_incoming = top;
    } while (!incoming_.compare_exchange_weak(top, n, std::memory_order_seq_cst, std::memory_order_relaxed));
    return t < armed_.load(std::memory_order_seq_cst);
  }

  // Any thread, after n->try_remove() succeeded. `urgent` (a sleeper waits for it): returns true
  // when the I/O thread must be woken. Otherwise the removal waits for the next round, unless
  // many have piled up.
  bool remove(timer_node* n, bool urgent) noexcept {
    auto& stack = urgent ? urgent_removed_ : lazy_removed_;
    timer_node* top = stack.load(std::memory_order_relaxed);
    do {
      n->next_removed = top;
    } while (!stack.compare_exchange_weak(top, n, std::memory_order_release, std::memory_order_relaxed));
    if (urgent) return top == nullptr; // the I/O thread drains the whole stack each round
    return lazy_count_.fetch_add(1, std::memory_order_relaxed) + 1 == lazy_wake_threshold;
  }

  // I/O thread: moves new nodes into the heap, then publishes the deadline it will sleep until
  // (never if none). Returns that deadline; `recheck` is set if nodes arrived meanwhile.
  clock::time_point prepare_wait(bool& recheck) noexcept {
    drain_removed();
    auto next = heap_.empty() ? clock::time_point::max() : heap_.front()->deadline;
    armed_.store(heap_.empty() ? never : ticks(next), std::memory_order_seq_cst);
    recheck = incoming_.load(std::memory_order_seq_cst) != nullptr ||
              urgent_removed_.load(std::memory_order_relaxed) != nullptr;
    return next;
  }

  // I/O thread: takes out removed nodes, then fires every node due at `now` (unless its owner
  // is removing it: then its removal, queued already, is what tells it).
  void expire(clock::time_point now) {
    drain_removed();
    while (!heap_.empty() && heap_.front()->deadline <= now) {
      timer_node* n = pop_front();
      std::uint32_t expected = timer_node::armed;
      if (n->state.compare_exchange_strong(expected, timer_node::fired, std::memory_order_acq_rel))
        n->notify(n, timer_node::event::fired);
    }
  }

  // Shutdown: tells every node it is abandoned (sleepers' frames are about to be destroyed;
  // allocated nodes drop the queue's reference).
  void abandon() noexcept {
    drain_incoming();
    for (timer_node* n : heap_) {
      n->heap_index = timer_node::not_in_heap;
      // A node its owner is removing is on a removal stack: told once, below.
      if (n->try_remove()) n->notify(n, timer_node::event::abandoned);
    }
    heap_.clear();
    // Removed nodes that were still queued for removal (those that fired or were abandoned above
    // were popped already: their owners hold them alone).
    for (auto* stack : {&urgent_removed_, &lazy_removed_}) {
      for (timer_node* n = stack->exchange(nullptr, std::memory_order_acquire); n;) {
        timer_node* next = n->next_removed;
        n->notify(n, timer_node::event::abandoned);
        n = next;
      }
    }
  }

  std::size_t size() const noexcept { return heap_.size(); }

private:
  static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
  static std::int64_t ticks(clock::time_point t) noexcept { return t.time_since_epoch().count(); }

  // Takes the removal stacks first and the incoming stack second: a node is pushed to incoming
  // before it can be removed, so every node taken here is in the heap (or was popped: fired).
  void drain_removed() {
    timer_node* r = urgent_removed_.exchange(nullptr, std::memory_order_acquire);
    lazy_count_.store(0, std::memory_order_relaxed); // a heuristic only: may over-count
    timer_node* lazy = lazy_removed_.exchange(nullptr, std::memory_order_acquire);
    drain_incoming();
    for (timer_node* list : {r, lazy}) {
      while (list) {
        timer_node* next = list->next_removed;
        if (list->heap_index != timer_node::not_in_heap) erase(list->heap_index);
        list->notify(list, timer_node::event::removed);
        list = next;
      }
    }
  }

  void drain_incoming() {
    timer_node* n = incoming_.exchange(nullptr, std::memory_order_acquire);
    while (n) {
      timer_node* next = n->next_incoming;
      push(n);
      n = next;
    }
  }
  void push(timer_node* n) {
    n->heap_index = static_cast<std::uint32_t>(heap_.size());
    heap_.push_back(n);
    sift_up(n->heap_index);
  }
  timer_node* pop_front() {
    timer_node* top = heap_.front();
    erase(0);
    return top;
  }
  void erase(std::size_t i) {
    timer_node* gone = heap_[i];
    timer_node* last = heap_.back();
    heap_.pop_back();
    gone->heap_index = timer_node::not_in_heap;
    if (i < heap_.size()) {
      heap_[i] = last;
      last->heap_index = static_cast<std::uint32_t>(i);
      sift_down(i);
      sift_up(last->heap_index);
    }
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
    heap_[a]->heap_index = static_cast<std::uint32_t>(a);
    heap_[b]->heap_index = static_cast<std::uint32_t>(b);
  }

  std::atomic<timer_node*> incoming_{nullptr};
  std::atomic<std::int64_t> armed_{never};
  static constexpr std::size_t lazy_wake_threshold = 256;
  std::atomic<timer_node*> urgent_removed_{nullptr};
  std::atomic<timer_node*> lazy_removed_{nullptr};
  std::atomic<std::size_t> lazy_count_{0};
  std::vector<timer_node*> heap_;
};

} // namespace corio::detail
