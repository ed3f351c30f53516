// Requests, delivery and the cancelling() count of the cancellation protocol (cancel.hpp), and
// the std::stop_source a task may expose (this_task.hpp).
#include <corio/detail/cancel.hpp>
#include <corio/detail/stop_sources.hpp>
#include <corio/errors.hpp>

#include <mutex>
#include <stop_token>
#include <thread>
#include <unordered_map>

namespace corio::detail {

namespace {

// Stop sources are rare (only tasks that ask for a stop_token get one), so they live in a side
// table rather than in every task's header.
struct stop_source_table {
  std::mutex mu;
  std::unordered_map<const task_header*, std::stop_source> sources;
};
stop_source_table& stop_table() {
  static stop_source_table t;
  return t;
}

void request_stop_of(const task_header* h) noexcept {
  std::stop_source src{std::nostopstate};
  {
    std::lock_guard lock(stop_table().mu);
    auto it = stop_table().sources.find(h);
    if (it == stop_table().sources.end()) return;
    src = it->second;
  }
  src.request_stop(); // runs the callbacks, on this thread, outside every corio lock
}

} // namespace

void lock_cancel_contended(task_header* h) noexcept {
  for (int spins = 0; h->cancel.fetch_or(cancel_locked, std::memory_order_acquire) & cancel_locked; ++spins) {
    if (spins < 64)
      __builtin_ia32_pause();
    else
      std::this_thread::yield();
  }
}

bool request_cancel(task_header* h) noexcept {
  auto s = h->state.load(std::memory_order_acquire);
  if ((s & completed) || !(s & frame_live)) return false;
  lock_cancel(h);
  // Finished or destroyed meanwhile (its promise, which holds waiting_on, may be gone), or never
  // cancellable (never_cancelled).
  s = h->state.load(std::memory_order_acquire);
  if ((h->cancel.load(std::memory_order_relaxed) & cancel_closed) || (s & completed) || !(s & frame_live)) {
    unlock_cancel(h);
    return false;
  }
  h->cancel.fetch_or(cancel_pending, std::memory_order_relaxed);
  std::uint32_t word = h->cancel.fetch_add(cancel_count_one, std::memory_order_relaxed);
  if (cancel_registration*& w = waiting_on(h); cancel_registration* r = w) {
    w = nullptr;
    r->on_cancel(r);
  }
  unlock_cancel(h);
  if (word & cancel_stop_source) request_stop_of(h);
  return true;
}

void consume_cancel(task_header* root) noexcept {
  if (!root) return;
  lock_cancel(root);
  root->cancel.fetch_and(~cancel_pending, std::memory_order_relaxed);
  unlock_cancel(root);
}

namespace {
// Every delivery throws this one exception object: no allocation per cancellation, and
// is_cancellation recognises it by identity instead of rethrowing to look (a throw costs ~1 us,
// and 100,000 cancelled tasks each paid one more for that check). The object is never modified,
// so threads may throw and catch it at once.
const std::exception_ptr& shared_cancelled_error() {
  static const std::exception_ptr e = std::make_exception_ptr(cancelled_error());
  return e;
}
} // namespace

void deliver_cancel(task_header* root) {
  consume_cancel(root);
  std::rethrow_exception(shared_cancelled_error());
}

void deliver_cancel_at_start(task_header* root) { deliver_cancel(root); }

bool is_cancellation(const std::exception_ptr& e) noexcept {
  if (e == shared_cancelled_error()) return true;
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

std::uint32_t cancelling_count(task_header* root) noexcept {
  if (!root) return 0;
  return root->cancel.load(std::memory_order_acquire) / cancel_count_one;
}

std::uint32_t uncancel(task_header* root) noexcept {
  if (!root) return 0;
  lock_cancel(root);
  std::uint32_t word = root->cancel.load(std::memory_order_relaxed);
  std::uint32_t count = word / cancel_count_one;
  if (count > 0) {
    --count;
    root->cancel.fetch_sub(cancel_count_one, std::memory_order_relaxed);
    if (count == 0) root->cancel.fetch_and(~cancel_pending, std::memory_order_relaxed);
  }
  unlock_cancel(root);
  return count;
}

std::stop_token task_stop_token(task_header* root) {
  if (!root) return {}; // never stops: not a corio task
  auto& t = stop_table();
  std::stop_source src{std::nostopstate};
  {
    std::lock_guard lock(t.mu);
    auto [it, inserted] = t.sources.try_emplace(root);
    src = it->second;
    if (inserted) root->cancel.fetch_or(cancel_stop_source, std::memory_order_acq_rel);
  }
  // A task already cancelled exposes a token that is already stopped.
  if (root->cancel.load(std::memory_order_acquire) & cancel_pending) src.request_stop();
  return src.get_token();
}

void release_stop_source(const task_header* h) noexcept {
  std::stop_source src{std::nostopstate};
  {
    std::lock_guard lock(stop_table().mu);
    auto it = stop_table().sources.find(h);
    if (it == stop_table().sources.end()) return;
    src = std::move(it->second);
    stop_table().sources.erase(it);
  }
  // src dies here, outside the table's lock (it may destroy the last stop_state)
}

} // namespace corio::detail
