#pragma once
// corio::queue<T> (asyncio.Queue), corio::lifo_queue<T> (LifoQueue) and
// corio::priority_queue<T, Compare> (PriorityQueue: smallest first): hand items between tasks.
//
//   corio::queue<job> q(1024);                 // bounded; 0 = unbounded
//   co_await q.put(job{...});                  // waits while full: back-pressure
//   job j = co_await q.get();                  // waits while empty
//   q.task_done();  /* ... */  co_await q.join();   // until every item was processed
//   q.shutdown();                              // 3.13: wakes everyone with queue_shut_down
//
// Waiters are served FIFO. An item is handed straight to the first waiting getter, so a woken
// getter always has its item (no spurious wake-ups), and when a getter frees a slot the first
// waiting putter's item moves in and the putter resumes. Everyone resumes on a worker through
// the scheduler. put_nowait/get_nowait throw queue_full/queue_empty instead of waiting.
// shutdown(): later puts throw queue_shut_down, blocked putters are woken with it; getters may
// drain what is queued, then get queue_shut_down (blocked ones at once, since the queue is
// empty). shutdown(true) also discards the items and releases join() at once.
// Cancellation: a cancelled getter or putter leaves its list; an item is never lost to it.
#include <corio/detail/spinlock.hpp>
#include <corio/detail/wait_list.hpp>
#include <corio/errors.hpp>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace corio {

// asyncio.QueueEmpty / QueueFull / QueueShutDown
class queue_empty : public std::runtime_error {
public:
  queue_empty() : std::runtime_error("corio: the queue is empty") {}
};
class queue_full : public std::runtime_error {
public:
  queue_full() : std::runtime_error("corio: the queue is full") {}
};
class queue_shut_down : public std::runtime_error {
public:
  queue_shut_down() : std::runtime_error("corio: the queue was shut down") {}
};

namespace detail {

template <class T>
struct fifo_store {
  std::deque<T> items;
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.front());
    items.pop_front();
    return v;
  }
  std::size_t size() const noexcept { return items.size(); }
  void clear() { items.clear(); }
};

template <class T>
struct lifo_store {
  std::vector<T> items;
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  std::size_t size() const noexcept { return items.size(); }
  void clear() { items.clear(); }
};

template <class T, class Compare>
struct priority_store {
  std::vector<T> heap;
  Compare less{};
  // std's heap functions keep the greatest on top; invert to keep the smallest there.
  bool greater(const T& a, const T& b) const { return less(b, a); }
  void push(T&& v) {
    heap.push_back(std::move(v));
    std::push_heap(heap.begin(), heap.end(), [this](const T& a, const T& b) { return greater(a, b); });
  }
  T pop() {
    std::pop_heap(heap.begin(), heap.end(), [this](const T& a, const T& b) { return greater(a, b); });
    T v = std::move(heap.back());
    heap.pop_back();
    return v;
  }
  std::size_t size() const noexcept { return heap.size(); }
  void clear() { heap.clear(); }
};

template <class T, class Store>
class basic_queue {
  struct getter : wait_node {
    std::optional<T> item;
    bool shut = false;
  };
  struct putter : wait_node {
    T* item = nullptr;
    bool shut = false;
  };

public:
  explicit basic_queue(std::size_t maxsize = 0) : maxsize_(maxsize) {}
  basic_queue(const basic_queue&) = delete;
  basic_queue& operator=(const basic_queue&) = delete;

  class put_awaiter {
  public:
    put_awaiter(basic_queue& q, T v) : q_(q), value_(std::move(v)) {}
    bool await_ready() {
      wait_node* wake = nullptr;
      bool done;
      {
        std::lock_guard lock(q_.lock_);
        done = q_.try_put_locked(value_, shut_, &wake);
      }
      if (wake) wake->wake();
      return done;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      // Bound now: after publishing, this awaiter may be gone (see wait_node::arm).
      detail::spinlock& guard = q_.lock_;
      node_.prepare(h);
      node_.item = &value_;
      wait_node* wake = nullptr;
      {
        cancel_lock cancel(node_.root);
        if (cancel.pending()) {
          node_.cancelled = true; // the item is not put
          return false;
        }
        {
          std::lock_guard lock(q_.lock_);
          if (!q_.try_put_locked(value_, shut_, &wake)) {
            q_.putters_.push_back(&node_);
            node_.arm(cancel, guard);
            return true;
          }
        }
      }
      if (wake) wake->wake();
      return false;
    }
    void await_resume() {
      node_.finish();
      if (shut_ || node_.shut) throw queue_shut_down();
    }

  private:
    basic_queue& q_;
    T value_;
    putter node_;
    bool shut_ = false;
  };
  put_awaiter put(T v) { return put_awaiter(*this, std::move(v)); }

  class get_awaiter {
  public:
    explicit get_awaiter(basic_queue& q) noexcept : q_(q) {}
    bool await_ready() {
      wait_node* wake = nullptr;
      bool done;
      {
        std::lock_guard lock(q_.lock_);
        done = q_.try_get_locked(node_, &wake);
      }
      if (wake) wake->wake();
      return done;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      // Bound now: after publishing, this awaiter may be gone (see wait_node::arm).
      detail::spinlock& guard = q_.lock_;
      node_.prepare(h);
      wait_node* wake = nullptr;
      {
        cancel_lock cancel(node_.root);
        if (cancel.pending()) {
          node_.cancelled = true; // nothing is taken from the queue
          return false;
        }
        {
          std::lock_guard lock(q_.lock_);
          if (!q_.try_get_locked(node_, &wake)) {
            q_.getters_.push_back(&node_);
            node_.arm(cancel, guard);
            return true;
          }
        }
      }
      if (wake) wake->wake();
      return false;
    }
    T await_resume() {
      node_.finish();
      if (node_.item) return std::move(*node_.item);
      throw queue_shut_down();
    }

  private:
    basic_queue& q_;
    getter node_;
  };
  get_awaiter get() noexcept { return get_awaiter(*this); }

  void put_nowait(T v) {
    wait_node* wake = nullptr;
    bool shut = false;
    {
      std::lock_guard lock(lock_);
      if (!try_put_locked(v, shut, &wake)) throw queue_full();
    }
    if (shut) throw queue_shut_down();
    if (wake) wake->wake();
  }

  T get_nowait() {
    getter g;
    wait_node* wake = nullptr;
    {
      std::lock_guard lock(lock_);
      if (!try_get_locked(g, &wake)) throw queue_empty();
    }
    if (wake) wake->wake();
    if (!g.item) throw queue_shut_down();
    return std::move(*g.item);
  }

  // One put item has been fully processed (asyncio.Queue.task_done).
  void task_done() {
    wake_batch woken;
    {
      std::lock_guard lock(lock_);
      if (unfinished_ == 0) throw invalid_state_error("corio: queue::task_done() called more times than items were put");
      if (--unfinished_ == 0) joiners_.take_all(woken);
    }
    wake_all(woken);
  }

  class join_awaiter {
  public:
    explicit join_awaiter(basic_queue& q) noexcept : q_(q) {}
    bool await_ready() const noexcept {
      std::lock_guard lock(q_.lock_);
      return q_.unfinished_ == 0;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      // Bound now: after publishing, this awaiter may be gone (see wait_node::arm).
      detail::spinlock& guard = q_.lock_;
      node_.prepare(h);
      cancel_lock cancel(node_.root);
      if (cancel.pending()) {
        node_.cancelled = true;
        return false;
      }
      {
        std::lock_guard lock(q_.lock_);
        if (q_.unfinished_ == 0) return false;
        q_.joiners_.push_back(&node_);
      }
      node_.arm(cancel, guard);
      return true;
    }
    void await_resume() { node_.finish(); }

  private:
    basic_queue& q_;
    wait_node node_;
  };
  // Waits until task_done() has been called for every item put (asyncio.Queue.join).
  join_awaiter join() noexcept { return join_awaiter(*this); }

  // asyncio 3.13's Queue.shutdown(immediate).
  void shutdown(bool immediate = false) {
    wake_batch getters, putters, joiners;
    {
      std::lock_guard lock(lock_);
      shutdown_ = true;
      if (immediate) { // drop the items and release join() regardless of task_done()
        items_.clear();
        unfinished_ = 0;
        joiners_.take_all(joiners);
      }
      getters_.take_all(getters); // getters only wait on an empty queue: nothing left for them
      putters_.take_all(putters);
    }
    while (auto* g = static_cast<getter*>(getters.pop())) {
      g->shut = true;
      g->wake();
    }
    while (auto* p = static_cast<putter*>(putters.pop())) {
      p->shut = true;
      p->wake();
    }
    wake_all(joiners);
  }

  std::size_t qsize() const noexcept {
    std::lock_guard lock(lock_);
    return items_.size();
  }
  bool empty() const noexcept { return qsize() == 0; }
  bool full() const noexcept {
    std::lock_guard lock(lock_);
    return maxsize_ > 0 && items_.size() >= maxsize_;
  }
  std::size_t maxsize() const noexcept { return maxsize_; }
  bool is_shut_down() const noexcept {
    std::lock_guard lock(lock_);
    return shutdown_;
  }

private:
  // Under lock_. True when v was taken (into the queue or straight to a getter, which is
  // returned in *wake to be woken after unlocking) or refused by shutdown (`shut` set).
  bool try_put_locked(T& v, bool& shut, wait_node** wake) {
    if (shutdown_) {
      shut = true;
      return true;
    }
    if (auto* g = static_cast<getter*>(getters_.front())) {
      getters_.pop_front();
      g->item.emplace(std::move(v));
      ++unfinished_;
      *wake = g; // woken by the caller once the lock is released
      return true;
    }
    if (maxsize_ > 0 && items_.size() >= maxsize_) return false;
    items_.push(std::move(v));
    ++unfinished_;
    return true;
  }

  // Under lock_. True when g got an item, or the queue is shut down and empty (g.item empty).
  bool try_get_locked(getter& g, wait_node** wake) {
    if (items_.size() > 0) {
      g.item.emplace(items_.pop());
      // A slot is free: the first waiting putter's item moves in and it may go on.
      if (auto* p = static_cast<putter*>(putters_.front())) {
        putters_.pop_front();
        items_.push(std::move(*p->item));
        ++unfinished_;
        *wake = p;
      }
      return true;
    }
    return shutdown_;
  }

  const std::size_t maxsize_;
  mutable spinlock lock_;
  Store items_;
  wait_list getters_, putters_, joiners_;
  std::size_t unfinished_ = 0;
  bool shutdown_ = false;
};

} // namespace detail

template <class T>
using queue = detail::basic_queue<T, detail::fifo_store<T>>;

template <class T>
using lifo_queue = detail::basic_queue<T, detail::lifo_store<T>>;

template <class T, class Compare = std::less<T>>
using priority_queue = detail::basic_queue<T, detail::priority_store<T, Compare>>;

} // namespace corio
