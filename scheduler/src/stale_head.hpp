#pragma once
// When the oldest task of a worker's local queue has waited long enough to run ahead of newer
// work. The owner pops its queue newest first, which keeps fork-join code depth-first and its
// memory small, but alone it would let a worker that always has newer work starve the task at the
// head forever (with one worker nobody steals it). So the head runs next once it has waited:
//
// - 10 ms while the queue is at most half full. Not sooner: in fork-join code the head is the
//   largest pending subtree, and taking it early expands breadth first. Taking the head every
//   31 or 1024 steps made skynet (1M leaves) spill 1.4-1.6M of its 1.1M tasks to the global
//   queue and run 40-80 % slower; a 1 ms bound still spilled 60k.
// - 1 s while the queue is more than half full. A head taken there starts one more depth-first
//   path on top of the others, and once a path no longer fits, the queue spills its oldest half
//   to the global queue, whose every-61st-step poll then starts a spilled subtree at a time: a
//   breadth-first cascade. With the 10 ms bound alone, skynet with 10M leaves (0.75 s, longer
//   than a subtree of the root takes) spilled 190k tasks, peaked at 125 MiB instead of 4 MiB
//   and ran slower than oneTBB. A queue that full is a worker with far more work than it can
//   run soon; other workers steal its head first, and a spill sends the head to the global
//   queue, which is polled every 61 steps, so the long bound is rarely what releases a task.
//
// Owner-only state: a worker asks due() now and then (with the global-queue poll).
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace corio::detail {

class stale_head_watch {
public:
  using clock = std::chrono::steady_clock;
  static constexpr clock::duration usual_wait = std::chrono::milliseconds(10);
  static constexpr clock::duration crowded_wait = std::chrono::seconds(1);

  // True when the task at `head` (a queue position; `size` tasks queued, of `capacity`) has
  // waited long enough to run next. The caller then pops it and calls taken().
  bool due(std::uint16_t head, std::size_t size, std::size_t capacity, clock::time_point now) noexcept {
    if (!watching_ || head != head_ || size == 0) {
      watching_ = true;
      head_ = head;
      since_ = now;
      return false;
    }
    const clock::duration waited = now - since_;
    return waited >= (size <= capacity / 2 ? usual_wait : crowded_wait);
  }

  // The head was taken; `new_head` is the queue's head position now.
  void taken(std::uint16_t new_head, clock::time_point now) noexcept {
    head_ = new_head;
    since_ = now;
  }

private:
  bool watching_ = false; // head_ and since_ describe a head seen before
  std::uint16_t head_ = 0;
  clock::time_point since_{};
};

} // namespace corio::detail
