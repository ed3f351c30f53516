#pragma once
// When the task at the head of a worker's local queue has waited long enough to run ahead of
// newer work. The owner pops its queue newest first, which keeps fork-join code depth-first and
// its memory small; alone, that would let a worker that always has newer work starve the head
// forever (with one worker nobody steals it). So the head runs next once it has been the head
// for 10 ms, or for 100 ms while the queue holds more than the last head taken left behind (it
// is still expanding). (Spilled work in the global queue has its own, simpler rule:
// worker::take_stale.)
//
// Not sooner than 10 ms: in fork-join code the head is the largest pending subtree, and taking
// it early expands breadth first. Taking the head every 31 or 1024 steps made skynet (1M leaves)
// spill 1.4-1.6M of its 1.1M tasks and run 40-80 % slower; a 1 ms bound still spilled 60k. The
// longer bound while the last take is still expanding: each head taken starts one more
// depth-first path on top of those in progress, and with a plain 10 ms bound skynet with 10M
// leaves (a subtree of the root takes longer than 10 ms) piled up paths until it spilled 190k
// tasks and peaked at 125 MiB instead of 4 MiB. A level that stays up for 100 ms is load rather
// than one expansion: it becomes the new base (see taken()).
//
// The wait restarts for each head: a backlog drains one task per bound.
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
  static constexpr clock::duration expanding_wait = std::chrono::milliseconds(100);
  // How much more may be queued than after the takes so far before the last one counts as
  // expanding: more than a task or two that come and go, less than a fork-join level or two.
  static constexpr std::size_t growth_slack = 16;

  // True when the task at queue position `head` has been the head long enough to run next;
  // `queued` counts the tasks queued now. The caller then takes it and calls taken().
  bool due(std::uint32_t head, std::size_t queued, clock::time_point now) noexcept {
    if (!watching_ || head != head_) {
      watching_ = true;
      head_ = head;
      since_ = now;
      return false;
    }
    expanding_ = base_ != no_base && queued > base_ + growth_slack;
    return now - since_ >= (expanding_ ? expanding_wait : usual_wait);
  }

  // The position due() watches now, if any.
  bool watching(std::uint32_t& head) const noexcept {
    head = head_;
    return watching_;
  }

  // Nothing is queued: the next head starts its wait when first seen.
  void forget() noexcept {
    watching_ = false;
    base_ = no_base;
  }

  // The head was taken, leaving `queued` tasks: the next one's wait starts now. After a
  // usual wait the base only comes down (until the queue drains): a task taken while the last
  // one's remains were still queued must not lift it, or remains within the slack would pile up
  // take after take. After an expanding wait the queue's level is taken as it is: it stayed up
  // for 100 ms, so it is load, not one task's expansion, and later tasks wait the usual 10 ms.
  void taken(std::uint32_t next_head, std::size_t queued, clock::time_point now) noexcept {
    watching_ = true;
    head_ = next_head;
    since_ = now;
    if (expanding_ || queued < base_) base_ = queued;
  }

private:
  static constexpr std::size_t no_base = static_cast<std::size_t>(-1);
  bool watching_ = false; // head_ and since_ describe a task seen before
  std::uint32_t head_ = 0;
  clock::time_point since_{};
  std::size_t base_ = no_base; // the queue's level after the takes since it drained (see taken)
  bool expanding_ = false;     // what the last due() found
};

} // namespace corio::detail
