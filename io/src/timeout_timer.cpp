// The timer behind wait_for / timeout / timeout_at: at its deadline it requests cancellation of
// the task that set it. It must never touch the task after disarm() returns, and disarm() must
// not wait for the I/O thread in the common case (the work finished first), so the node is
// allocated and owned by two parties, the timer queue and the timeout_timer, and freed by the
// last. The state word decides once between "fired" and "removed" (timer_queue.hpp).
#include "timer_queue.hpp"

#include <corio/detail/io_service.hpp>
#include <corio/timeout.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <thread>

namespace corio::detail {

namespace {

struct timeout_node : timer_node {
  task_header* root = nullptr;
  io_service* io = nullptr;
  std::atomic<int> refs{2};
  std::atomic<bool> fire_done{false}; // the cancellation request has been made

  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  static void on_event(timer_node* t, event e) noexcept {
    auto* n = static_cast<timeout_node*>(t);
    if (e == event::fired) {
      request_cancel(n->root);
      n->fire_done.store(true, std::memory_order_release);
    }
    n->release();
  }
};

// With an application-provided io_context: an Asio timer, fired and cancelled on that context.
struct external_timeout : std::enable_shared_from_this<external_timeout> {
  external_timeout(asio::io_context& ctx, std::chrono::steady_clock::time_point deadline, task_header* r)
      : timer(ctx, deadline), root(r) {}
  asio::steady_timer timer;
  task_header* root;
  std::atomic<std::uint32_t> state{timer_node::armed};
  std::atomic<bool> fire_done{false};
  std::shared_ptr<external_timeout> self; // the owner's reference, dropped by disarm()
};

void wait_for_fire(const std::atomic<bool>& done) noexcept {
  for (int spins = 0; !done.load(std::memory_order_acquire); ++spins) {
    if (spins < 64)
      __builtin_ia32_pause();
    else
      std::this_thread::yield();
  }
}

} // namespace

timeout_timer::timeout_timer(task_header* root, std::chrono::steady_clock::time_point deadline) {
  io_service& io = current_io();
  if (io.timers()) {
    auto* n = new timeout_node;
    n->deadline = deadline;
    n->notify = &timeout_node::on_event;
    n->root = root;
    n->io = &io;
    node_ = n;
    io.add_timer(n);
    return;
  }
  external_ = true;
  auto t = std::make_shared<external_timeout>(io.next_context(), deadline, root);
  t->self = t;
  t->timer.async_wait([t](const std::error_code& ec) {
    if (ec) return;
    std::uint32_t expected = timer_node::armed;
    if (!t->state.compare_exchange_strong(expected, timer_node::fired, std::memory_order_acq_rel)) return;
    request_cancel(t->root);
    t->fire_done.store(true, std::memory_order_release);
  });
  node_ = t.get();
}

bool timeout_timer::disarm() noexcept {
  if (!node_) return fired_;
  if (!external_) {
    auto* n = static_cast<timeout_node*>(std::exchange(node_, nullptr));
    if (n->try_remove()) {
      n->io->remove_timer(n, false); // lazily: nobody waits for the removal
    } else if (n->state.load(std::memory_order_acquire) == timer_node::fired) {
      wait_for_fire(n->fire_done); // it may be making the request right now
      fired_ = true;
    } // else: abandoned by a runtime shutdown
    n->release();
    return fired_;
  }
  auto* t = static_cast<external_timeout*>(std::exchange(node_, nullptr));
  std::shared_ptr<external_timeout> keep = std::move(t->self);
  std::uint32_t expected = timer_node::armed;
  if (t->state.compare_exchange_strong(expected, timer_node::removed, std::memory_order_acq_rel)) {
    // The timer belongs to its context's thread: cancel it there (its handler then just returns).
    try {
      asio::post(t->timer.get_executor(), [keep] { keep->timer.cancel(); });
    } catch (...) {
      // Could not post: the timer expires later and its handler finds it removed.
    }
  } else {
    wait_for_fire(t->fire_done);
    fired_ = true;
  }
  return fired_;
}

} // namespace corio::detail
