#include <corio/detail/io_service.hpp>
#include <corio/run.hpp>
#include <corio/runtime.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>

namespace corio {

namespace {
scheduler_options scheduler_part(const runtime_options& o) {
  scheduler_options s;
  s.workers = o.workers;
  s.spin_before_park = o.spin_before_park;
  s.offload_threads = o.offload_threads;
  s.offload_nice = o.offload_nice;
  s.debug = o.debug;
  s.slow_step_threshold = o.slow_step_threshold;
  return s;
}
} // namespace

runtime::runtime(runtime_options options)
    : grace_(options.shutdown_grace), io_(nullptr), scheduler_(scheduler_part(options)) {
  io_ = std::make_unique<detail::io_service>(scheduler_, options.io_threads, options.io_context,
                                            options.io_threads_yield_to_workers);
  scheduler_.set_context(this);
  io_->start();
}

runtime::~runtime() {
  if (scheduler::current() == &scheduler_) {
    fmt::print(stderr, "corio: a runtime was destroyed from one of its own worker threads; that "
                       "would deadlock (a worker cannot join itself). Aborting.\n");
    std::fflush(stderr);
    std::abort();
  }
  shutdown();
}

void runtime::shutdown() {
  // Workers first (nothing new is started), then the I/O threads (no completion arrives while
  // frames are destroyed), then the unfinished tasks themselves.
  scheduler_.shutdown([this] { io_->stop(); });
}

cancel_report runtime::shutdown(std::chrono::steady_clock::time_point deadline) {
  cancel_report r = scheduler_.cancel_pending(deadline);
  shutdown();
  return r;
}

asio::io_context& runtime::io_context(std::size_t index) noexcept { return io_->context(index); }
std::size_t runtime::io_thread_count() const noexcept { return io_->size(); }

void detail::finish_run(runtime& rt) noexcept {
  if (rt.get_scheduler().is_shut_down()) return;
  try {
    cancel_report r = rt.shutdown(rt.shutdown_grace());
    if (r.left > 0)
      fmt::print(stderr,
                 "corio::run: {} task{} did not finish within {} ms of being cancelled and {} destroyed\n",
                 r.left, r.left == 1 ? "" : "s", rt.shutdown_grace().count(), r.left == 1 ? "was" : "were");
  } catch (...) {
    rt.shutdown();
  }
}

runtime* runtime::current() noexcept {
  scheduler* s = scheduler::current();
  return s ? static_cast<runtime*>(s->context()) : nullptr;
}

} // namespace corio
