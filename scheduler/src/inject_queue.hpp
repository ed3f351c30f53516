#pragma once
// The global injection queue: where wake-ups from outside the workers (the I/O thread, TBB
// threads, user threads) and local-queue overflow land. A growable ring of frame addresses under
// a mutex, so batches move in and out in at most two runs; the length is also kept in an atomic so idle
// workers can check for work without taking the lock.
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>

namespace corio::detail {

class inject_queue {
public:
  using handle = std::coroutine_handle<>;

  void push(handle h) { push_batch(&h, 1); }

  void push_batch(const handle* hs, std::size_t n) {
    if (n == 0) return;
    std::lock_guard lock(mu_);
    if (count_ + n > cap_) grow(count_ + n);
    std::size_t tail = (head_ + count_) % cap_;
    const std::size_t first = run_from(tail, n);
    for (std::size_t i = 0; i < first; ++i) ring_[tail + i] = hs[i].address();
    for (std::size_t i = first; i < n; ++i) ring_[i - first] = hs[i].address();
    count_ += n;
    len_.fetch_add(n, std::memory_order_seq_cst); // see idle.hpp for why seq_cst
  }

  // Takes up to max handles, oldest first.
  std::size_t pop_batch(handle* out, std::size_t max) {
    if (len_.load(std::memory_order_relaxed) == 0) return 0;
    std::lock_guard lock(mu_);
    std::size_t n = count_ < max ? count_ : max;
    if (n == 0) return 0;
    const std::size_t first = run_from(head_, n);
    for (std::size_t i = 0; i < first; ++i) out[i] = handle::from_address(ring_[head_ + i]);
    for (std::size_t i = first; i < n; ++i) out[i] = handle::from_address(ring_[i - first]);
    head_ = (head_ + n) % cap_;
    count_ -= n;
    len_.fetch_sub(n, std::memory_order_relaxed);
    return n;
  }

  std::size_t size() const noexcept { return len_.load(std::memory_order_seq_cst); }

  void clear() {
    std::lock_guard lock(mu_);
    head_ = count_ = 0;
    len_.store(0, std::memory_order_relaxed);
  }

private:
  // How many of n slots from ring position pos lie before the ring's end (the rest wrap to 0).
  std::size_t run_from(std::size_t pos, std::size_t n) const noexcept { return n < cap_ - pos ? n : cap_ - pos; }

  // Left uninitialised (a million spilled tasks grow it to 8 MiB: zeroing it first showed up in
  // the spawn benchmark); the live part is moved in two runs, not one modulo per element.
  void grow(std::size_t need) {
    std::size_t cap = cap_ == 0 ? 1024 : cap_;
    while (cap < need) cap *= 2;
    std::unique_ptr<void*[]> bigger(new void*[cap]);
    const std::size_t first = run_from(head_, count_);
    if (first) std::memcpy(bigger.get(), ring_.get() + head_, first * sizeof(void*));
    if (count_ > first) std::memcpy(bigger.get() + first, ring_.get(), (count_ - first) * sizeof(void*));
    ring_ = std::move(bigger);
    cap_ = cap;
    head_ = 0;
  }

  std::mutex mu_;
  std::unique_ptr<void*[]> ring_;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::atomic<std::size_t> len_{0};
};

} // namespace corio::detail
