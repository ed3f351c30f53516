#pragma once
// Where a scheduler keeps every spawned task whose frame still exists, so that shutdown can
// destroy the unfinished ones (and tools can list them).
//
// One shard per worker plus one for spawns from other threads. Who may touch a shard:
// - A worker's shard is linked and unlinked only by that worker, with plain stores: spawning and
//   finishing a task on its own worker (the common case in fork-join code) costs no atomic
//   operation. A frame destroyed on another thread is pushed onto the shard's remote stack (one
//   CAS) and the owner unlinks and frees it at its next check (every 61 steps, before parking,
//   when it stops).
// - The foreign shard, and any shard once its scheduler's workers have stopped ("adopted" by
//   shutdown), is touched only under registry_mutex(), which every non-worker thread takes.
// Taking the mutex before reading a task's shard pointer is what lets shutdown unregister the
// tasks whose handles outlive the runtime while another thread drops one of those handles.
#include <corio/detail/task_header.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

namespace corio::detail {

struct scheduler_core;
class worker;

// Serialises registry access from threads that are not workers of the task's scheduler.
// Recursive: shutdown holds it while destroying tasks, whose destructors may free other tasks.
std::recursive_mutex& registry_mutex() noexcept;

class registry_shard {
public:
  registry_shard(scheduler_core& core, worker* owner) noexcept : core_(core), owner_(owner) {
    sentinel_.prev = sentinel_.next = &sentinel_;
  }
  registry_shard(const registry_shard&) = delete;
  registry_shard& operator=(const registry_shard&) = delete;

  scheduler_core& core() const noexcept { return core_; }
  worker* owner() const noexcept { return owner_; } // null for the foreign shard

  // Owner, or holder of registry_mutex() for the foreign shard and adopted shards.
  void link(task_header* h) noexcept {
    h->shard.store(this, std::memory_order_relaxed);
    h->next = &sentinel_;
    h->prev = sentinel_.prev;
    sentinel_.prev->next = h;
    sentinel_.prev = h;
    count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void unlink(task_header* h) noexcept {
    h->prev->next = h->next;
    h->next->prev = h->prev;
    h->shard.store(nullptr, std::memory_order_relaxed);
    count_.store(count_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }

  // Any thread: a destroyed task for the owner to unlink and free. The stack is linked through
  // the first word of the (already destroyed) coroutine frame, so the header stays intact.
  void push_remote(task_header* h) noexcept {
    task_header* top = remote_.load(std::memory_order_relaxed);
    do {
      ::new (frame_of(h)) task_header*(top);
    } while (!remote_.compare_exchange_weak(top, h, std::memory_order_release, std::memory_order_relaxed));
    remote_count_.fetch_add(1, std::memory_order_relaxed);
  }
  static task_header* remote_next(task_header* h) noexcept { return *static_cast<task_header**>(frame_of(h)); }
  bool has_remote() const noexcept { return remote_.load(std::memory_order_relaxed) != nullptr; }
  // Owner (or adopter): unlinks and frees every task pushed by other threads.
  void drain_remote() noexcept;

  // Owner or adopter: visits every registered task.
  template <class F>
  void for_each(F&& f) {
    for (task_header* h = sentinel_.next; h != &sentinel_;) {
      task_header* next = h->next; // f may unlink h
      f(h);
      h = next;
    }
  }

  // Tasks registered and not freed: a parked owner drains its remote stack only when it wakes,
  // so what waits there is not counted (metrics' tasks_alive would otherwise stay high).
  std::size_t size() const noexcept {
    std::size_t c = count_.load(std::memory_order_relaxed), r = remote_count_.load(std::memory_order_relaxed);
    return c > r ? c - r : 0;
  }

private:
  scheduler_core& core_;
  worker* const owner_;
  task_header sentinel_;
  std::atomic<std::size_t> count_{0};
  alignas(64) std::atomic<task_header*> remote_{nullptr};
  std::atomic<std::size_t> remote_count_{0};
};

} // namespace corio::detail
