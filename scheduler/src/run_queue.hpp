#pragma once
// A worker's local run queue: a bounded ring that its owner uses as a stack (push and pop at the
// tail, newest first, so fork-join work runs depth-first and few frames stay alive) and that
// thieves drain from the head, oldest first, half of it in one batch.
//
// The protocol is Cilk's THE protocol, extended to batches. The point is the owner's fast path:
// a push is a plain store of the tail, with no locked instruction, and a pop a seq_cst store of
// the tail (one xchg) and a load of the head. (With every update a CAS of one packed word, the
// push and the pop were two locked instructions per task, together a fifth of a worker's time
// in fork-join work at two workers, the push's ~12 %: perf on bench_skynet.)
//
// - tail_ is written only by the owner. head_ and steal_ are written only by whoever holds
//   lock_: one thief at a time, or the owner for its operations at the head end (pop_front,
//   push_front, take_oldest_half) and to settle a pop that raced with a thief.
// - A pop lowers the tail, then reads the head; a thief raises the head (its claim), then reads
//   the tail. Both pairs are seq_cst, so at least one side sees the other: the owner sees the
//   claim and does not take a claimed slot, or the thief sees the lowered tail and takes back a
//   claim that reaches past it. Conflicts are then settled under the lock.
// - A thief copies its slots out after its claim succeeded and only then moves steal_ up to the
//   head; the owner counts free space from steal_, so it never overwrites a slot being copied.
//
// A scheduler with one worker has no thieves, so in "solo" mode the pop needs no seq_cst store
// and the head-end operations no lock.
//
// Wake-ups: a push is published with a release store, not a seq_cst read-modify-write, so it does
// not pair with a parking worker's re-check of the queues the way a global-queue push does (see
// idle.hpp for how the parking side makes up for it). The pushing worker runs the task itself if
// nobody else takes it, so a push is never stranded.
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace corio::detail {

// Capacity is a parameter so the stress test can run with 4 slots, where every wrap-around and
// full/empty race is reachable in a few operations.
template <std::uint16_t Capacity>
class basic_run_queue {
  static_assert(Capacity >= 2 && Capacity <= 4096 && (Capacity & (Capacity - 1)) == 0);

public:
  using handle = std::coroutine_handle<>;
  static constexpr std::uint16_t capacity = Capacity;

  // Before the owner starts: true when no other thread will ever claim slots (see above).
  void set_solo(bool solo) noexcept { solo_ = solo; }

  // --- owner only ------------------------------------------------------------------------
  // Pushes at the tail; false when full (the caller spills with take_oldest_half).
  bool push_back(handle h) noexcept {
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - steal_.load(std::memory_order_acquire) >= capacity) return false;
    slots_[t % capacity] = h;
    publish_tail(t + 1);
    return true;
  }

  // Pushes n handles at the tail; false (nothing pushed) if they don't fit.
  bool push_back_batch(const handle* hs, std::uint16_t n) noexcept {
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - steal_.load(std::memory_order_acquire) + n > capacity) return false;
    for (std::uint16_t i = 0; i < n; ++i) slots_[(t + i) % capacity] = hs[i];
    publish_tail(t + n);
    return true;
  }

  // Pops the newest task (LIFO), or returns a null handle.
  handle pop_back() noexcept {
    if (solo_) return pop_exact();
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    // Looks empty: a thief's claim that it is about to take back can make it look so, so decide
    // under the lock (this is the path to looking for work elsewhere: rare next to pops).
    if (distance(head_.load(std::memory_order_relaxed), t) <= 0) return pop_back_locked();
    --t;
    tail_.store(t, std::memory_order_seq_cst);
    if (distance(head_.load(std::memory_order_seq_cst), t) >= 0) return slots_[t % capacity];
    // A thief's claim reaches slot t: put it back and let the lock settle who takes it.
    tail_.store(t + 1, std::memory_order_release);
    return pop_back_locked();
  }

  // Pops the oldest task (FIFO); the scheduler does this now and then so nothing starves.
  handle pop_front() noexcept {
    if (!lock_at_head()) return {};
    const std::uint32_t h = head_.load(std::memory_order_relaxed);
    handle out{};
    if (distance(h, tail_.load(std::memory_order_relaxed)) > 0) {
      out = slots_[h % capacity];
      move_head(h + 1);
    }
    unlock_at_head();
    return out;
  }

  // Puts h at the head, behind everything queued (yield, LIFO-slot fairness). False when full or
  // while a steal is in flight; the caller then uses the global queue.
  bool push_front(handle h) noexcept {
    if (!lock_at_head()) return false;
    const std::uint32_t r = head_.load(std::memory_order_relaxed);
    const bool fits = tail_.load(std::memory_order_relaxed) - r < capacity - 1u;
    if (fits) {
      slots_[(r - 1) % capacity] = h; // free: outside [steal, tail) and not the tail's next slot
      move_head(r - 1);
    }
    unlock_at_head();
    return fits;
  }

  // When full: takes the oldest half and copies it to out (capacity/2 slots). Returns how many,
  // 0 if a steal is in flight.
  std::size_t take_oldest_half(handle* out) noexcept {
    if (!lock_at_head()) return 0;
    const std::uint32_t r = head_.load(std::memory_order_relaxed);
    const std::uint32_t k = (tail_.load(std::memory_order_relaxed) - r) / 2;
    for (std::uint32_t i = 0; i < k; ++i) out[i] = slots_[(r + i) % capacity];
    if (k) move_head(r + k);
    unlock_at_head();
    return k;
  }

  // --- any thread ---------------------------------------------------------------------------
  // Moves about half of this queue (rounded up) into dst, which must be owned by the calling
  // thread, and returns one of the moved tasks to run now. `moved` receives the batch size.
  handle steal_into(basic_run_queue& dst, std::size_t& moved) noexcept {
    moved = 0;
    const std::uint32_t dt = dst.tail_.load(std::memory_order_relaxed);
    const std::uint32_t room = capacity - (dt - dst.steal_.load(std::memory_order_acquire));
    if (room == 0) return {};
    // Cheap look first: most searches find queues empty, and need not take (and bounce) the lock.
    if (distance(head_.load(std::memory_order_relaxed), tail_.load(std::memory_order_relaxed)) <= 0) return {};
    if (!try_lock()) return {}; // another thief is at it
    const std::uint32_t r = head_.load(std::memory_order_relaxed); // stable while we hold the lock
    std::uint32_t k = 0;
    for (;;) {
      const std::int32_t n = distance(r, tail_.load(std::memory_order_acquire));
      if (n <= 0) break;
      k = static_cast<std::uint32_t>(n) - static_cast<std::uint32_t>(n) / 2;
      if (k > room) k = room;
      head_.store(r + k, std::memory_order_seq_cst); // the claim
      if (distance(r + k, tail_.load(std::memory_order_seq_cst)) >= 0) break; // the owner did not pop into it
      head_.store(r, std::memory_order_relaxed); // take it back, and retry with the new tail
      k = 0;
    }
    if (k == 0) {
      unlock();
      return {};
    }
    for (std::uint32_t i = 0; i < k; ++i) dst.slots_[(dt + i) % capacity] = slots_[(r + i) % capacity];
    // Copy done: the owner may reuse the slots.
    steal_.store(r + k, std::memory_order_release);
    unlock();
    moved = k;
    handle run_now = dst.slots_[(dt + k - 1) % capacity];
    if (k > 1) dst.publish_tail(dt + k - 1);
    return run_now;
  }

  // Changes whenever the task at the head does (the fairness rule's watch).
  std::uint32_t head_position() const noexcept { return head_.load(std::memory_order_relaxed); }

  // Approximate, also for the owner: a thief's claim in flight, possibly about to be taken back,
  // can make it read short (and 0). Exact answers come from pop_back, which decides under the lock.
  std::size_t size() const noexcept {
    const std::int32_t n = distance(head_.load(std::memory_order_seq_cst), tail_.load(std::memory_order_seq_cst));
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  bool empty() const noexcept { return size() == 0; }

private:
  // How far position b is ahead of a (negative: behind), positions wrapping at 2^32.
  static std::int32_t distance(std::uint32_t a, std::uint32_t b) noexcept { return static_cast<std::int32_t>(b - a); }

  void publish_tail(std::uint32_t t) noexcept { tail_.store(t, std::memory_order_release); }

  // A pop where nobody else can move the head: in solo mode, or under the lock.
  handle pop_exact() noexcept {
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (head_.load(std::memory_order_relaxed) == t) return {};
    tail_.store(t - 1, std::memory_order_relaxed);
    return slots_[(t - 1) % capacity];
  }

  // Settles a pop under the lock: with no thief in flight, head_ is exact.
  [[gnu::noinline]] handle pop_back_locked() noexcept { // rare: keeps pop_back small to inline
    lock_spin();
    handle out = pop_exact();
    unlock();
    return out;
  }

  // The owner's operations at the head end: in solo mode nobody else is there; otherwise they
  // give way to a thief in flight, as a second thief does.
  bool lock_at_head() noexcept { return solo_ || try_lock(); }
  void unlock_at_head() noexcept {
    if (!solo_) unlock();
  }
  void move_head(std::uint32_t h) noexcept {
    head_.store(h, std::memory_order_relaxed);
    steal_.store(h, std::memory_order_release);
  }

  // A thief holds the lock for the few instructions of a claim and a copy; if it was preempted
  // in between, give it the CPU rather than spin against it.
  void lock_spin() noexcept {
    for (int spins = 0; !try_lock(); ++spins)
      if (spins >= 64) std::this_thread::yield();
  }
  // Looks before the exchange, so a busy lock is not bounced between caches.
  bool try_lock() noexcept {
    return !lock_.load(std::memory_order_relaxed) && !lock_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { lock_.store(false, std::memory_order_release); }

  alignas(64) std::atomic<std::uint32_t> tail_{0}; // owner writes
  bool solo_ = false;
  alignas(64) std::atomic<std::uint32_t> head_{0};  // lock holder writes: the first queued slot
  std::atomic<std::uint32_t> steal_{0};             // lock holder writes: slots before it are free
  std::atomic<bool> lock_{false};
  alignas(64) handle slots_[capacity];
};

// tokio's and Go's size, and enough here: fib/skynet keep a queue about as deep as the
// recursion, and a full queue spills half to the global queue in one batch.
using run_queue = basic_run_queue<256>;

} // namespace corio::detail
