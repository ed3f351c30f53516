#pragma once
// Who is looking for work, and who sleeps. The protocol is tokio's:
//
// - state_ packs the number of searching workers (low half) and of unparked workers (high half).
// - A worker that runs out of local work becomes a searcher only while fewer than half of the
//   workers search (more thieves than that mostly contend on the same queues).
// - Whoever makes work available (a push to a local or the global queue) then calls
//   should_wake(): only if nobody is searching and someone sleeps does it wake one sleeper, which
//   starts out as a searcher. A running searcher will find the work itself, so no wake-up is
//   paid for (waking a parked thread costs 20-80 us on our VMs).
// - No lost wake-ups: pushing work to the global queue is a seq_cst RMW followed by a seq_cst
//   read of state_; parking is a seq_cst RMW on state_ followed, for the last searcher, by a
//   seq_cst re-check of every queue. In the single total order one side sees the other: either
//   the pusher sees the parked worker (and wakes one), or the last searcher sees the work (and
//   wakes one, possibly itself). Non-searching workers may park without re-checking because while
//   they were not allowed to search, a searcher existed and the last searcher to park re-checks.
// - A push to a worker's own local queue is a plain release store (run_queue.hpp: the locked
//   add of a push was ~12 % of fork-join time at two workers), so that pairing does not
//   hold for it: the push may still sit in the pusher's store buffer when the last searcher
//   re-checks. Nothing is lost by that, since the pusher runs its own queue, only parallelism,
//   and only for a moment: the last searcher re-checks once more 1 ms after parking
//   (worker::park), long after any store buffer has drained. A parked worker that is woken
//   before then pays nothing for this; an idle one wakes once.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace corio::detail {

class idle {
public:
  explicit idle(std::size_t workers) : workers_(workers) {
    state_.store(static_cast<std::uint64_t>(workers) << 32, std::memory_order_relaxed);
    sleepers_.reserve(workers);
  }

  bool try_start_search() noexcept {
    auto s = state_.load(std::memory_order_seq_cst);
    if (2 * searching(s) >= workers_) return false;
    state_.fetch_add(1, std::memory_order_seq_cst);
    return true;
  }

  // Returns true when the caller was the last searcher.
  bool stop_search() noexcept { return searching(state_.fetch_sub(1, std::memory_order_seq_cst)) == 1; }

  bool should_wake() const noexcept {
    auto s = state_.load(std::memory_order_seq_cst);
    return searching(s) == 0 && unparked(s) < workers_;
  }

  // Picks a sleeper to wake, counting it as unparked and searching. False if none should wake.
  bool claim_sleeper(std::size_t& index) {
    std::lock_guard lock(mu_);
    if (!should_wake() || sleepers_.empty()) return false;
    index = sleepers_.back();
    sleepers_.pop_back();
    state_.fetch_add(1 + (std::uint64_t{1} << 32), std::memory_order_seq_cst);
    return true;
  }

  // Records the worker as asleep. Returns true when it was the last searcher, in which case it
  // must re-check every queue before sleeping.
  bool transition_to_parked(std::size_t index, bool was_searching) {
    std::lock_guard lock(mu_);
    std::uint64_t dec = (std::uint64_t{1} << 32) + (was_searching ? 1 : 0);
    auto prev = state_.fetch_sub(dec, std::memory_order_seq_cst);
    sleepers_.push_back(index);
    return was_searching && searching(prev) == 1;
  }

  bool is_sleeping(std::size_t index) {
    std::lock_guard lock(mu_);
    return std::find(sleepers_.begin(), sleepers_.end(), index) != sleepers_.end();
  }

  std::size_t searching_now() const noexcept { return searching(state_.load(std::memory_order_relaxed)); }

private:
  static std::size_t searching(std::uint64_t s) noexcept { return static_cast<std::uint32_t>(s); }
  static std::size_t unparked(std::uint64_t s) noexcept { return static_cast<std::size_t>(s >> 32); }

  const std::size_t workers_;
  std::atomic<std::uint64_t> state_{0};
  std::mutex mu_;
  std::vector<std::size_t> sleepers_;
};

} // namespace corio::detail
