#pragma once
// A worker's local run queue: a bounded ring that its owner uses as a stack (push and pop at the
// tail, newest first, so fork-join work runs depth-first and few frames stay alive) and that
// thieves drain from the head, oldest first, half of it in one batch.
//
// The whole queue state is one 64-bit word: the tail, the "real" head and the "steal" head, each
// a wrapping 16-bit position. Every claim of a slot — an owner pop from either end, a thief's
// batch — is a compare-and-swap of that word, so a claim is only made against the exact current
// state and no slot is ever taken twice. A thief claims [head, head+k) by advancing only the real
// head; the steal head stays behind until it has copied the slots out, and the owner counts free
// space from the steal head, so it cannot overwrite slots a thief is still reading. At most one
// steal is in flight per queue; a second thief gives up and tries another victim.
//
// A scheduler with one worker has no thieves, and the only thread that parks is the owner itself,
// so nothing needs the atomic read-modify-writes: in "solo" mode every update is a plain store of
// the word (still atomic, so metrics may read the depth). That is two locked instructions fewer
// per task, ~10 % of a fork-join task at one worker (bench_skynet, bench_fib).
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

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
    auto w = state_.load(std::memory_order_acquire);
    std::uint16_t t = tail(w);
    if (static_cast<std::uint16_t>(t - steal(w)) >= capacity) return false;
    slots_[t % capacity] = h;
    // seq_cst: pairs with the seq_cst reads of the idle state so a parking worker and a pusher
    // cannot both miss each other (see idle.hpp). A locked add on x86 either way.
    if (solo_)
      state_.store(w + tail_one, std::memory_order_release);
    else
      state_.fetch_add(tail_one, std::memory_order_seq_cst);
    return true;
  }

  // Pushes n handles at the tail with one atomic add; false (nothing pushed) if they don't fit.
  bool push_back_batch(const handle* hs, std::uint16_t n) noexcept {
    auto w = state_.load(std::memory_order_acquire);
    std::uint16_t t = tail(w);
    if (static_cast<std::uint16_t>(t - steal(w)) + n > capacity) return false;
    for (std::uint16_t i = 0; i < n; ++i) slots_[static_cast<std::uint16_t>(t + i) % capacity] = hs[i];
    if (solo_)
      state_.store(w + tail_one * n, std::memory_order_release);
    else
      state_.fetch_add(tail_one * n, std::memory_order_seq_cst);
    return true;
  }

  // Pops the newest task (LIFO), or returns a null handle.
  handle pop_back() noexcept {
    auto w = state_.load(std::memory_order_acquire);
    for (;;) {
      std::uint16_t t = tail(w);
      if (head(w) == t) return {};
      if (claim(w, w - tail_one))
        return slots_[static_cast<std::uint16_t>(t - 1) % capacity];
    }
  }

  // Pops the oldest task (FIFO); the scheduler does this now and then so nothing starves.
  handle pop_front() noexcept {
    auto w = state_.load(std::memory_order_acquire);
    for (;;) {
      std::uint16_t r = head(w), s = steal(w), t = tail(w);
      if (r == t) return {};
      std::uint16_t nr = r + 1;
      // With no steal in flight both heads move; otherwise the thief re-syncs them when done.
      if (claim(w, pack(nr, s == r ? nr : s, t)))
        return slots_[r % capacity];
    }
  }

  // Puts h at the head, behind everything queued (yield, LIFO-slot fairness). False when full or
  // while a steal is in flight; the caller then uses the global queue.
  bool push_front(handle h) noexcept {
    auto w = state_.load(std::memory_order_acquire);
    for (;;) {
      std::uint16_t r = head(w), s = steal(w), t = tail(w);
      if (s != r || static_cast<std::uint16_t>(t - r) >= capacity - 1) return false;
      std::uint16_t nr = r - 1;
      slots_[nr % capacity] = h; // free: outside [steal, tail) and not the tail's next slot
      if (claim(w, pack(nr, nr, t)))
        return true;
    }
  }

  // When full: claims the oldest half and copies it to out (capacity/2 slots). Returns how many,
  // 0 if a steal is in flight.
  std::size_t take_oldest_half(handle* out) noexcept {
    auto w = state_.load(std::memory_order_acquire);
    for (;;) {
      std::uint16_t r = head(w), s = steal(w), t = tail(w);
      if (s != r) return 0;
      std::uint16_t k = static_cast<std::uint16_t>(t - r) / 2;
      if (k == 0) return 0;
      std::uint16_t nr = r + k;
      if (claim(w, pack(nr, nr, t))) {
        for (std::uint16_t i = 0; i < k; ++i) out[i] = slots_[static_cast<std::uint16_t>(r + i) % capacity];
        return k;
      }
    }
  }

  // --- any thread ---------------------------------------------------------------------------
  // Moves about half of this queue (rounded up) into dst, which must be owned by the calling
  // thread, and returns one of the moved tasks to run now. `moved` receives the batch size.
  handle steal_into(basic_run_queue& dst, std::size_t& moved) noexcept {
    moved = 0;
    auto dw = dst.state_.load(std::memory_order_acquire);
    std::uint16_t dt = tail(dw);
    std::uint16_t room = capacity - static_cast<std::uint16_t>(dt - steal(dw));
    if (room == 0) return {};

    auto w = state_.load(std::memory_order_acquire);
    std::uint16_t r, k;
    for (;;) {
      r = head(w);
      std::uint16_t s = steal(w), t = tail(w);
      if (s != r) return {}; // another thief is copying
      std::uint16_t n = t - r;
      if (n == 0) return {};
      k = n - n / 2;
      if (k > room) k = room;
      if (state_.compare_exchange_weak(w, pack(r + k, s, t), std::memory_order_acq_rel,
                                       std::memory_order_acquire))
        break;
    }
    for (std::uint16_t i = 0; i < k; ++i)
      dst.slots_[static_cast<std::uint16_t>(dt + i) % capacity] =
          slots_[static_cast<std::uint16_t>(r + i) % capacity];
    // Copy done: let the owner reuse the slots by moving the steal head up to the real head.
    w = state_.load(std::memory_order_acquire);
    while (!state_.compare_exchange_weak(w, pack(head(w), head(w), tail(w)),
                                         std::memory_order_acq_rel, std::memory_order_acquire)) {
    }
    moved = k;
    handle run_now = dst.slots_[static_cast<std::uint16_t>(dt + k - 1) % capacity];
    if (k > 1) dst.state_.fetch_add(static_cast<std::uint64_t>(k - 1) << 48, std::memory_order_seq_cst);
    return run_now;
  }

  std::uint16_t head_position() const noexcept { return head(state_.load(std::memory_order_relaxed)); }

  std::size_t size() const noexcept {
    auto w = state_.load(std::memory_order_seq_cst);
    return static_cast<std::uint16_t>(tail(w) - head(w));
  }
  bool empty() const noexcept { return size() == 0; }

private:
  // The owner's update of the word from w to nw: a CAS (false, with w refreshed, if a thief moved
  // it meanwhile), or in solo mode a store. seq_cst so that a push_front is also a publication
  // the idle protocol can see (push_back's argument).
  bool claim(std::uint64_t& w, std::uint64_t nw) noexcept {
    if (solo_) {
      state_.store(nw, std::memory_order_release);
      return true;
    }
    return state_.compare_exchange_weak(w, nw, std::memory_order_seq_cst, std::memory_order_acquire);
  }

  static constexpr std::uint64_t tail_one = std::uint64_t{1} << 48;
  static std::uint16_t head(std::uint64_t w) noexcept { return static_cast<std::uint16_t>(w); }
  static std::uint16_t steal(std::uint64_t w) noexcept { return static_cast<std::uint16_t>(w >> 16); }
  static std::uint16_t tail(std::uint64_t w) noexcept { return static_cast<std::uint16_t>(w >> 48); }
  static std::uint64_t pack(std::uint16_t head, std::uint16_t steal, std::uint16_t tail) noexcept {
    return std::uint64_t{head} | (std::uint64_t{steal} << 16) | (std::uint64_t{tail} << 48);
  }

  alignas(64) std::atomic<std::uint64_t> state_{0};
  bool solo_ = false;
  handle slots_[capacity];
};

// tokio's and Go's size, and enough here: fib/skynet keep a queue about as deep as the
// recursion, and a full queue spills half to the global queue in one batch.
using run_queue = basic_run_queue<256>;

} // namespace corio::detail
