#include <corio/detail/frame_alloc.hpp>
#include <corio/detail/frame_cache.hpp>

#include <corio/detail/spinlock.hpp>

#include <corio/detail/task_header.hpp>

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

namespace corio::detail {

namespace {

constexpr bool sanitized_build() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

bool read_pool_setting() noexcept {
  const char* v = std::getenv("CORIO_FRAME_POOL");
  if (v) return std::strcmp(v, "0") != 0;
  return !sanitized_build();
}
const bool pool_enabled = read_pool_setting();

std::size_t class_of(std::size_t total) noexcept { return total / frame_granule - 1; }
std::size_t size_of(std::size_t cls) noexcept { return (cls + 1) * frame_granule; }

// --- regions: where chunks come from -----------------------------------------------------------
// 2 MiB mappings, handed out 64 KiB at a time. Not advised as transparent huge pages: with THP in
// "madvise" mode (the common default) a fault in such a region may compact memory synchronously,
// and after another process has fragmented it that stalled a worker for 300-500 ms (bench_spawn
// run right after the Asio baseline, which peaks at 1 GB). Instead each chunk is populated in one
// call when it is handed out (MADV_POPULATE_WRITE, Linux 5.14; ignored where unknown): a quarter
// cheaper than taking its 16 page faults one by one, and never a stall. Falls back to operator new.
constexpr std::size_t region_bytes = std::size_t{2} << 20;
// A size class takes 64 KiB at a time from a region: ~680 blocks of a typical 96-byte task.
constexpr std::size_t chunk_bytes = 64 * 1024;

#ifdef MADV_POPULATE_WRITE
void populate(char* chunk) noexcept { ::madvise(chunk, chunk_bytes, MADV_POPULATE_WRITE); }
#else
void populate(char*) noexcept {}
#endif

struct region_source {
  spinlock lock;
  char* cur = nullptr;
  char* end = nullptr;

  char* chunk() {
    char* c;
    {
      std::lock_guard guard(lock);
      if (cur == end) {
        void* p = ::mmap(nullptr, region_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return static_cast<char*>(::operator new(chunk_bytes));
        cur = static_cast<char*>(p);
        end = cur + region_bytes;
      }
      c = cur;
      cur += chunk_bytes;
    }
    populate(c); // outside the lock: another worker may take the next chunk meanwhile
    return c;
  }
};
region_source regions;

// --- the central list: batches any thread can take ---------------------------------------------
struct central_list {
  spinlock lock;
  free_block* batches = nullptr;
};
central_list central[frame_classes];

void central_put(std::size_t cls, free_block* head, std::size_t count) noexcept {
  head->count = count;
  auto& c = central[cls];
  std::lock_guard guard(c.lock);
  head->next_batch = c.batches;
  c.batches = head;
}

free_block* central_take(std::size_t cls, std::size_t& count) noexcept {
  auto& c = central[cls];
  std::lock_guard guard(c.lock);
  free_block* b = c.batches;
  if (!b) return nullptr;
  c.batches = b->next_batch;
  count = b->count;
  return b;
}

// One block for a thread without a cache: split it off a central batch.
void* central_take_one(std::size_t cls) noexcept {
  auto& c = central[cls];
  std::lock_guard guard(c.lock);
  free_block* b = c.batches;
  if (!b) return nullptr;
  c.batches = b->next_batch;
  if (b->count > 1) {
    free_block* rest = b->next;
    rest->count = b->count - 1;
    rest->next_batch = c.batches;
    c.batches = rest;
  }
  return b;
}

} // namespace

constinit thread_local frame_cache* frame_cache_tls = nullptr;

bool frame_pool_enabled() noexcept { return pool_enabled; }

frame_cache::~frame_cache() {
  for (std::size_t c = 0; c < frame_classes; ++c) {
    bin& b = bins_[c];
    if (b.head) central_put(c, b.head, b.count);
    if (b.spare) central_put(c, b.spare, batch);
    // The rest of a bump chunk is abandoned: at most one chunk per class per worker.
    b = bin{};
  }
}

void* frame_cache::take_slow(std::size_t cls) {
  bin& b = bins_[cls];
  if (b.spare) {
    b.head = std::exchange(b.spare, nullptr);
    b.count = batch;
    return take(cls);
  }
  std::size_t size = size_of(cls);
  std::size_t count = 0;
  if (free_block* got = central_take(cls, count)) {
    b.head = got;
    b.count = static_cast<std::uint32_t>(count);
    return take(cls);
  }
  b.bump = regions.chunk();
  b.bump_end = b.bump + chunk_bytes / size * size;
  void* p = b.bump;
  b.bump += size;
  return p;
}

void frame_cache::retire_batch(std::size_t cls) noexcept {
  bin& b = bins_[cls];
  if (b.spare) central_put(cls, b.spare, batch);
  b.spare = b.head;
  b.head = nullptr;
  b.count = 0;
}

void* allocate_block_slow(std::size_t total) {
  if (total / frame_granule >= max_block_units) throw std::bad_alloc(); // the size would not fit the header
  void* block = nullptr;
  // Off the workers a pooled size still comes from (and may go back to) the pool, so that any
  // thread can free any block.
  if (pool_enabled && total <= max_pooled_frame) block = central_take_one(class_of(total));
  if (!block) block = ::operator new(total);
  return block;
}

void release_block_slow(task_header* h, std::size_t total) noexcept {
  if (!pool_enabled || total > max_pooled_frame) {
    ::operator delete(static_cast<void*>(h)); // unsized: clang 14 lacks sized delete by default
    return;
  }
  auto* n = ::new (static_cast<void*>(h)) free_block{nullptr, nullptr, 1};
  central_put(class_of(total), n, 1);
}

} // namespace corio::detail
