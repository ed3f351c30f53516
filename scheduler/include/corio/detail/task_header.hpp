#pragma once
// Internal: the small header that precedes every corio task frame in memory.
//
// A coroutine frame is freed by coroutine_handle::destroy(), but a join_handle may outlive the
// coroutine (a runtime shutdown destroys unfinished tasks while a foreign thread still holds
// their handles). Keeping the join state in a header in front of the frame lets the memory
// outlive the coroutine: whoever clears the last of {frame_live, handle_live} frees the block.
// The header also links spawned tasks into their scheduler's registry, so shutdown can find and
// destroy every unfinished task (see scheduler/src/task_registry.hpp for who may touch it), and
// holds the task's cancellation state (see cancel.hpp): a task awaited by another one shares the
// header of the spawned task at the root of its chain.
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace corio::detail {

class registry_shard;
struct cancel_registration;

// Bits of task_header::state.
inline constexpr std::uint32_t frame_live = 1u << 0;  // the coroutine has not been destroyed
inline constexpr std::uint32_t handle_live = 1u << 1; // a join_handle still refers to the task
inline constexpr std::uint32_t completed = 1u << 2;   // the task reached its final suspend point
inline constexpr std::uint32_t awaited = 1u << 3;     // a join_handle awaiter stored its continuation

// Bits of task_header::cancel (see cancel.hpp).
inline constexpr std::uint32_t cancel_locked = 1u << 0;      // the cancel lock is held
inline constexpr std::uint32_t cancel_pending = 1u << 1;     // requested and not delivered yet
inline constexpr std::uint32_t cancel_stop_source = 1u << 2; // a std::stop_source is attached
inline constexpr std::uint32_t cancel_closed = 1u << 3;      // never cancellable: requests fail
inline constexpr std::uint32_t cancel_named = 1u << 4;       // a name is in the side table (task_info.hpp)
inline constexpr std::uint32_t cancel_count_one = 1u << 8;   // cancelling() is the rest, >> 8

struct alignas(16) task_header {
  explicit task_header(std::uint32_t size) noexcept : block_size(size) {}
  task_header() noexcept = default; // a registry's sentinel

  std::atomic<std::uint32_t> state{frame_live};
  std::uint32_t block_size = 0; // bytes of header + frame, for sized deallocation
  // Non-null while a spawned task is registered. Atomic (relaxed) only so that a thread of
  // another runtime may look at it while shutdown unregisters the task; see task_registry.hpp.
  std::atomic<registry_shard*> shard{nullptr};
  task_header* prev; // registry links: valid only while registered
  task_header* next; // (also the link of a shard's remote-free stack)
  // Cancellation (cancel.hpp): a lock bit, the pending bit and the cancelling() count, and what
  // the task is suspended in, if that can be cancelled. Both only change under the lock bit.
  std::atomic<std::uint32_t> cancel{0};
  cancel_registration* waiting_on = nullptr;
};
static_assert(sizeof(task_header) % 16 == 0, "frames must stay 16-byte aligned");

inline task_header* header_of(void* frame) noexcept { return static_cast<task_header*>(frame) - 1; }
inline void* frame_of(task_header* h) noexcept { return h + 1; }

} // namespace corio::detail
