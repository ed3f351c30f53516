#include "task_registry.hpp"

#include "scheduler_core.hpp"
#include "worker.hpp"

#include <corio/detail/frame_alloc.hpp>

namespace corio::detail {

std::recursive_mutex& registry_mutex() noexcept {
  static std::recursive_mutex m;
  return m;
}

void registry_shard::drain_remote() noexcept {
  task_header* h = remote_.exchange(nullptr, std::memory_order_acquire);
  std::size_t drained = 0;
  while (h) {
    task_header* next = remote_next(h);
    unlink(h);
    finish_free(h);
    h = next;
    ++drained;
  }
  if (drained) remote_count_.fetch_sub(drained, std::memory_order_relaxed);
}

namespace {
// Everything but a task freed on the worker that spawned it: out of line, so that the common
// case below saves no registers.
[[gnu::noinline]] void unregister_elsewhere(task_header* h, registry_shard* s, worker* w) noexcept {
  if (w && w->core().owns_worker_shard(s)) {
    s->push_remote(h); // its owner unlinks and frees it
    return;
  }
  std::lock_guard lock(registry_mutex());
  s = h->shard.load(std::memory_order_relaxed);
  if (!s) { // shutdown unregistered it meanwhile
    finish_free(h);
    return;
  }
  if (!s->owner() || s->core().adopted) {
    s->unlink(h);
    finish_free(h);
    return;
  }
  s->push_remote(h);
}
} // namespace

void unregister_task(task_header* h) noexcept {
  registry_shard* s = h->shard.load(std::memory_order_relaxed);
  worker* w = worker::current();
  // Compare pointers only: s is dereferenced here only when it belongs to this worker's own
  // (running, hence not shutting down) scheduler, or (elsewhere) under the registry mutex.
  if (w && s == &w->registry()) [[likely]] {
    s->unlink(h);
    finish_free(h);
    return;
  }
  unregister_elsewhere(h, s, w);
}

} // namespace corio::detail
