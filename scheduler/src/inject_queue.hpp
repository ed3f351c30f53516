#pragma once
// A lane of the global queue (scheduler_core): frame addresses in a linked list of page-sized
// segments under a mutex; the length is also kept in an atomic so idle workers can check for
// work without taking the lock. Both ends can be popped: the lane for wake-ups from outside the
// workers (the I/O thread, TBB threads, user threads) is a FIFO; the lane for local-queue
// overflow is taken newest first, so that spilled fork-join work stays depth-first (see
// scheduler/README.md, "How a task travels"), and oldest first only by the fairness rule.
//
// Segments rather than one growable ring: growing a ring copies everything queued while the
// lock is held (a million spilled tasks meant copying 8 MiB under the lock that the I/O thread
// needs), and every doubling touches a fresh allocation, so a ring that reaches 8 MiB has faulted
// in 16. A segment list never copies, and an emptied segment is kept for the next push.
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <mutex>
#include <utility>

namespace corio::detail {

class inject_queue {
public:
  using handle = std::coroutine_handle<>;

  inject_queue() = default;
  inject_queue(const inject_queue&) = delete;
  inject_queue& operator=(const inject_queue&) = delete;
  ~inject_queue() {
    free_list(head_);
    free_list(spare_);
  }

  void push(handle h) { push_batch(&h, 1); }

  void push_batch(const handle* hs, std::size_t n) {
    if (n == 0) return;
    std::lock_guard lock(mu_);
    for (std::size_t done = 0; done < n;) {
      if (!tail_ || tail_pos_ == segment::slots) append_segment();
      std::size_t k = segment::slots - tail_pos_;
      if (k > n - done) k = n - done;
      void** out = tail_->items + tail_pos_;
      for (std::size_t i = 0; i < k; ++i) out[i] = hs[done + i].address();
      tail_pos_ += k;
      done += k;
    }
    count_ += n;
    len_.fetch_add(n, std::memory_order_seq_cst); // see idle.hpp for why seq_cst
  }

  // Takes up to max handles, oldest first.
  std::size_t pop_batch(handle* out, std::size_t max) {
    if (len_.load(std::memory_order_relaxed) == 0) return 0;
    std::lock_guard lock(mu_);
    std::size_t n = count_ < max ? count_ : max;
    for (std::size_t done = 0; done < n;) {
      const std::size_t end = head_ == tail_ ? tail_pos_ : segment::slots;
      std::size_t k = end - head_pos_;
      if (k > n - done) k = n - done;
      void* const* in = head_->items + head_pos_;
      for (std::size_t i = 0; i < k; ++i) out[done + i] = handle::from_address(in[i]);
      head_pos_ += k;
      done += k;
      if (head_pos_ == segment::slots && head_ != tail_) drop_head_segment();
    }
    finish_pop(n);
    return n;
  }

  // Takes up to max handles, newest first (out[0] is the newest).
  std::size_t pop_newest(handle* out, std::size_t max) {
    if (len_.load(std::memory_order_relaxed) == 0) return 0;
    std::lock_guard lock(mu_);
    std::size_t n = count_ < max ? count_ : max;
    for (std::size_t done = 0; done < n;) {
      if (tail_pos_ == 0) drop_tail_segment(); // only when more is queued before it
      const std::size_t begin = head_ == tail_ ? head_pos_ : 0;
      std::size_t k = tail_pos_ - begin;
      if (k > n - done) k = n - done;
      for (std::size_t i = 0; i < k; ++i) out[done + i] = handle::from_address(tail_->items[tail_pos_ - 1 - i]);
      tail_pos_ -= k;
      done += k;
    }
    finish_pop(n);
    return n;
  }

  std::size_t size() const noexcept { return len_.load(std::memory_order_seq_cst); }

  void clear() {
    std::lock_guard lock(mu_);
    if (head_) {
      free_list(head_->next);
      head_->next = nullptr;
      tail_ = head_;
    }
    head_pos_ = tail_pos_ = count_ = 0;
    len_.store(0, std::memory_order_relaxed);
  }

private:
  struct segment {
    // With the links, one 4 KiB page: a segment per 510 queued tasks.
    static constexpr std::size_t slots = 510;
    segment* next = nullptr;
    segment* prev = nullptr;
    void* items[slots];
  };
  static_assert(sizeof(segment) == 4096);

  void append_segment() {
    segment* s = spare_;
    if (s) {
      spare_ = s->next;
      s->next = nullptr;
      --spares_;
    } else {
      s = new segment; // items left uninitialised: only what was pushed is ever read
    }
    s->prev = tail_;
    if (tail_) tail_->next = s;
    else head_ = s;
    tail_ = s;
    tail_pos_ = 0;
  }

  // The tail segment has been read back to its start and more is queued before it.
  void drop_tail_segment() {
    segment* s = tail_;
    tail_ = s->prev;
    tail_->next = nullptr;
    tail_pos_ = segment::slots;
    keep_or_free(s);
  }

  // The last pop's bookkeeping; an emptied queue starts again at the start of its one segment.
  void finish_pop(std::size_t n) {
    count_ -= n;
    if (count_ == 0) head_pos_ = tail_pos_ = 0;
    len_.fetch_sub(n, std::memory_order_relaxed);
  }

  // The head segment has been read to its end: keep it for reuse or free it.
  void drop_head_segment() {
    segment* s = head_;
    head_ = s->next;
    head_->prev = nullptr;
    head_pos_ = 0;
    keep_or_free(s);
  }

  void keep_or_free(segment* s) {
    if (spares_ < max_spares) {
      s->next = spare_;
      spare_ = s;
      ++spares_;
    } else {
      delete s;
    }
  }

  static void free_list(segment* s) noexcept {
    while (s) delete std::exchange(s, s->next);
  }

  // A few emptied segments kept back, so a queue hovering around a segment boundary does not
  // allocate and free a page each time; a burst's worth beyond that goes back to the allocator.
  static constexpr std::size_t max_spares = 4;

  std::mutex mu_;
  segment* head_ = nullptr; // oldest segment: pops read from here
  segment* tail_ = nullptr; // newest segment: pushes write here
  std::size_t head_pos_ = 0;
  std::size_t tail_pos_ = 0;
  segment* spare_ = nullptr;
  std::size_t spares_ = 0;
  std::size_t count_ = 0;
  std::atomic<std::size_t> len_{0};
};

} // namespace corio::detail
