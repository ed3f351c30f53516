#pragma once
// Coroutine frame memory: size-classed blocks bump-allocated from prefaulted chunks of 2 MiB
// regions, recycled through a per-worker cache, with a central list of batches behind it.
//
// Why not plain operator new: a task is one frame allocation and one free, and with a million
// tasks alive glibc's malloc spends ~400 instructions per pair in its slow paths, plus a page
// fault per 4 KiB of new frames (callgrind and /usr/bin/time on bench_spawn; numbers in
// scheduler/README.md). A bump pointer and a free-list push cost a few instructions, and a chunk
// is prefaulted in one call instead of 16 faults.
//
// The fast paths are inline (this header) because a task's frame size is a constant at each
// coroutine's operator new, so the size class folds away; refills live in frame_pool.cpp.
//
// Rules that keep it simple and safe:
// - Any thread may free any block: a worker keeps it in its cache, any other thread hands it to
//   the central list. Pool blocks never go back to malloc: memory freed after a burst stays
//   available to corio's frames (as with most allocators) rather than returning to the system.
// - A worker caches at most two batches per size class; beyond that whole batches move to the
//   central list in O(1), where any worker picks them up.
// - Sanitizer builds use plain operator new so ASan can see use-after-free of frames.
#include <cstddef>
#include <cstdint>

namespace corio::detail {

inline constexpr std::size_t frame_granule = 16;      // the frame alignment: no finer size helps
inline constexpr std::size_t max_pooled_frame = 2048; // bigger frames are rare: plain new
inline constexpr std::size_t frame_classes = max_pooled_frame / frame_granule;

// A free block, reused as list node. The first node of a batch also carries the batch link.
struct free_block {
  free_block* next;
  free_block* next_batch;
  std::size_t count;
};

class frame_cache {
public:
  // Blocks per batch: big enough that the central lock is taken once per 256 frees, small
  // enough that a worker hoards at most 2 x 256 blocks per size class.
  static constexpr std::uint32_t batch = 256;

  frame_cache() = default;
  frame_cache(const frame_cache&) = delete;
  frame_cache& operator=(const frame_cache&) = delete;
  ~frame_cache(); // gives its batches to the central list

  void* take(std::size_t cls) {
    bin& b = bins_[cls];
    if (free_block* n = b.head) [[likely]] {
      b.head = n->next;
      --b.count;
      return n;
    }
    std::size_t size = (cls + 1) * frame_granule;
    if (b.bump + size <= b.bump_end) {
      void* p = b.bump;
      b.bump += size;
      return p;
    }
    return take_slow(cls);
  }
  void give(void* block, std::size_t cls) noexcept {
    bin& b = bins_[cls];
    auto* n = static_cast<free_block*>(block);
    n->next = b.head;
    b.head = n;
    if (++b.count == batch) [[unlikely]]
      retire_batch(cls);
  }

private:
  struct bin {
    free_block* head = nullptr;
    std::uint32_t count = 0;
    free_block* spare = nullptr; // a full batch kept back for hysteresis
    char* bump = nullptr;        // never-used blocks of the current chunk
    char* bump_end = nullptr;
  };
  void* take_slow(std::size_t cls);
  void retire_batch(std::size_t cls) noexcept;
  bin bins_[frame_classes];
};

// The calling thread's cache: a worker's, or null on other threads (and when the pool is off).
extern constinit thread_local frame_cache* frame_cache_tls;

// Installs (or, with nullptr, removes) the calling thread's cache.
inline void install_frame_cache(frame_cache* cache) noexcept { frame_cache_tls = cache; }
// False when CORIO_FRAME_POOL=0 asked for plain operator new, and in sanitizer builds.
bool frame_pool_enabled() noexcept;

} // namespace corio::detail
