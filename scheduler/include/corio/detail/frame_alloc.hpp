#pragma once
// Internal: allocation of corio task frames (header + coroutine frame), see frame_cache.hpp.
#include <corio/detail/frame_cache.hpp>
#include <corio/detail/task_header.hpp>

#include <atomic>
#include <cstddef>
#include <new>

namespace corio::detail {

// Slow paths (frame_pool.cpp): a block for a thread without a cache or an unpooled size (throws
// std::bad_alloc for 4 GiB or more: the size must fit the header's state word), and giving a
// block back from such a thread.
void* allocate_block_slow(std::size_t total);
void release_block_slow(task_header* h, std::size_t total) noexcept;
// Removes a destroyed spawned task from its scheduler's registry and then finishes its block
// (finish_free), possibly later, on the worker that owns the registry shard.
void unregister_task(task_header* h) noexcept;
// Drops the std::stop_source a task exposed (stop_sources.hpp).
void release_stop_source(const task_header* h) noexcept;
// Drops a task's name (task_info.hpp).
void release_task_name(const task_header* h) noexcept;

static_assert(alignof(task_header) == frame_granule, "block sizes are kept in units of the header's alignment");

inline void* allocate_frame(std::size_t frame_size) {
  const std::size_t units = (frame_size + sizeof(task_header) + frame_granule - 1) / frame_granule;
  const std::size_t total = units * frame_granule;
  void* block;
  if (frame_cache* c = frame_cache_tls; c && total <= max_pooled_frame) [[likely]]
    block = c->take(units - 1);
  else
    block = allocate_block_slow(total);
  return ::new (block) task_header(static_cast<std::uint32_t>(units)) + 1;
}

// Frees the block of a task whose coroutine is gone (also the join_handle side after shutdown).
inline void release_block(task_header* h) noexcept {
  const std::size_t units = h->block_units();
  const std::size_t total = units * frame_granule;
  h->~task_header();
  if (frame_cache* c = frame_cache_tls; c && total <= max_pooled_frame) [[likely]]
    c->give(h, units - 1);
  else
    release_block_slow(h, total);
}

// The coroutine is gone: free the block, unless a join_handle still refers to the task (it
// frees the block when it is dropped).
inline void finish_free(task_header* h) noexcept {
  if (h->state.load(std::memory_order_acquire) & handle_live) {
    if (h->state.fetch_and(~frame_live, std::memory_order_acq_rel) & handle_live) return;
  }
  release_block(h);
}

// operator delete of a task frame.
inline void free_frame(void* frame, std::size_t) noexcept {
  task_header* h = header_of(frame);
  if (const auto word = h->cancel.load(std::memory_order_relaxed); word & (cancel_stop_source | cancel_named)) [[unlikely]] {
    if (word & cancel_stop_source) release_stop_source(h);
    if (word & cancel_named) release_task_name(h);
  }
  if (h->shard.load(std::memory_order_relaxed))
    unregister_task(h);
  else
    finish_free(h);
}

} // namespace corio::detail
