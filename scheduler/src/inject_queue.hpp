#pragma once
// The global injection queue: where wake-ups from outside the workers (the I/O thread, TBB
// threads, user threads) and local-queue overflow land. A growable ring of handles under a
// mutex, so batches move in and out with memcpy; the length is also kept in an atomic so idle
// workers can check for work without taking the lock.
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <vector>

namespace corio::detail {

class inject_queue {
public:
  using handle = std::coroutine_handle<>;

  void push(handle h) { push_batch(&h, 1); }

  void push_batch(const handle* hs, std::size_t n) {
    if (n == 0) return;
    std::lock_guard lock(mu_);
    if (count_ + n > ring_.size()) grow(count_ + n);
    std::size_t cap = ring_.size();
    std::size_t tail = (head_ + count_) % cap;
    std::size_t first = n < cap - tail ? n : cap - tail;
    std::memcpy(&ring_[tail], hs, first * sizeof(handle));
    std::memcpy(&ring_[0], hs + first, (n - first) * sizeof(handle));
    count_ += n;
    len_.fetch_add(n, std::memory_order_seq_cst); // see idle.hpp for why seq_cst
  }

  // Takes up to max handles, oldest first.
  std::size_t pop_batch(handle* out, std::size_t max) {
    if (len_.load(std::memory_order_relaxed) == 0) return 0;
    std::lock_guard lock(mu_);
    std::size_t n = count_ < max ? count_ : max;
    if (n == 0) return 0;
    std::size_t cap = ring_.size();
    std::size_t first = n < cap - head_ ? n : cap - head_;
    std::memcpy(out, &ring_[head_], first * sizeof(handle));
    std::memcpy(out + first, &ring_[0], (n - first) * sizeof(handle));
    head_ = (head_ + n) % cap;
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
  void grow(std::size_t need) {
    std::size_t cap = ring_.empty() ? 1024 : ring_.size();
    while (cap < need) cap *= 2;
    std::vector<handle> bigger(cap);
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) % ring_.size()];
    ring_.swap(bigger);
    head_ = 0;
  }

  std::mutex mu_;
  std::vector<handle> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::atomic<std::size_t> len_{0};
};

} // namespace corio::detail
