#pragma once
// Internal: the small header that precedes every corio task frame in memory.
//
// A coroutine frame is freed by coroutine_handle::destroy(), but a join_handle may outlive the
// coroutine (a runtime shutdown destroys unfinished tasks while a foreign thread still holds
// their handles). Keeping the join state in a header in front of the frame lets the memory
// outlive the coroutine: whoever clears the last of {frame_live, handle_live} frees the block.
// The header also links spawned tasks into their scheduler's registry, so shutdown can find and
// destroy every unfinished task (see scheduler/src/task_registry.hpp for who may touch it), and
// holds the task's cancellation word (see cancel.hpp): a task awaited by another one shares the
// header of the spawned task at the root of its chain.
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace corio::detail {

class registry_shard;

// Bits of task_header::state. The bits above them hold the block's size (see below).
inline constexpr std::uint32_t frame_live = 1u << 0;  // the coroutine has not been destroyed
inline constexpr std::uint32_t handle_live = 1u << 1; // a join_handle still refers to the task
inline constexpr std::uint32_t completed = 1u << 2;   // the task reached its final suspend point
inline constexpr std::uint32_t awaited = 1u << 3;     // a join_handle awaiter stored its continuation
inline constexpr unsigned block_units_shift = 4;
inline constexpr std::size_t max_block_units = std::size_t{1} << (32 - block_units_shift); // exclusive

// Bits of task_header::cancel (see cancel.hpp).
inline constexpr std::uint32_t cancel_locked = 1u << 0;      // the cancel lock is held
inline constexpr std::uint32_t cancel_pending = 1u << 1;     // requested and not delivered yet
inline constexpr std::uint32_t cancel_stop_source = 1u << 2; // a std::stop_source is attached
inline constexpr std::uint32_t cancel_closed = 1u << 3;      // never cancellable: requests fail
inline constexpr std::uint32_t cancel_named = 1u << 4;       // a name is in the side table (task_info.hpp)
inline constexpr std::uint32_t cancel_count_one = 1u << 8;   // cancelling() is the rest, >> 8

// 32 bytes: with GCC 12's 64-byte frame for an empty task<int>, a spawned task takes a 96-byte
// block, and a million of them 16 MB less fresh memory than with the 48-byte header this was.
// So the block size shares the state word (it never changes, so the flag updates leave it be),
// and what a task waits in lives in its promise (promise_base::waiting_on_), not here.
struct alignas(16) task_header {
  // `units`: the size of header + frame in 16-byte units (below max_block_units: frame_alloc.hpp checks).
  explicit task_header(std::uint32_t units) noexcept : state(frame_live | units << block_units_shift) {}
  task_header() noexcept = default; // a registry's sentinel

  // The block's size in 16-byte units. The size bits never change: any load reads them.
  std::size_t block_units() const noexcept { return state.load(std::memory_order_relaxed) >> block_units_shift; }

  std::atomic<std::uint32_t> state{frame_live};
  // Cancellation (cancel.hpp): a lock bit, the pending bit and the cancelling() count. Changes
  // only under the lock bit, as does the root promise's waiting_on_.
  std::atomic<std::uint32_t> cancel{0};
  // Non-null while a spawned task is registered. Atomic (relaxed) only so that a thread of
  // another runtime may look at it while shutdown unregisters the task; see task_registry.hpp.
  std::atomic<registry_shard*> shard{nullptr};
  task_header* prev; // registry links: valid only while registered
  task_header* next; // (also the link of a shard's remote-free stack)
};
static_assert(sizeof(task_header) == 32, "the header is what every spawned task pays in memory");

inline task_header* header_of(void* frame) noexcept { return static_cast<task_header*>(frame) - 1; }
inline void* frame_of(task_header* h) noexcept { return h + 1; }

} // namespace corio::detail
