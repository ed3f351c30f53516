#include <corio/detail/io_service.hpp>
#include <corio/run.hpp>
#include <corio/runtime.hpp>
#include <corio/trace.hpp>

#include "metrics_endpoint.hpp"

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

struct runtime::metrics_endpoint {
  explicit metrics_endpoint(server s) : srv(std::move(s)) {}
  server srv;
};

runtime::runtime(runtime_options options)
    : grace_(options.shutdown_grace), io_(nullptr), scheduler_(scheduler_part(options)) {
  if (const char* path = std::getenv("CORIO_TRACE"); path && *path && !trace::enabled()) {
    std::size_t events = std::size_t{1} << 18;
    if (const char* n = std::getenv("CORIO_TRACE_EVENTS"); n && std::strtoull(n, nullptr, 10) > 0)
      events = static_cast<std::size_t>(std::strtoull(n, nullptr, 10));
    trace_path_ = path;
    trace::start(events);
  }
  io_ = std::make_unique<detail::io_service>(scheduler_, options.io_threads, options.io_context,
                                            options.io_threads_yield_to_workers);
  scheduler_.set_context(this);
  io_->start();
  std::string address = options.metrics_address;
  if (const char* e = std::getenv("CORIO_METRICS"); address.empty() && e) address = e;
  if (!address.empty()) {
    try {
      auto [host, port] = detail::parse_address(address);
      metrics_ = std::make_unique<metrics_endpoint>(scheduler_.block_on(detail::start_metrics_endpoint(*this, host, port)));
      fmt::print(stderr, "corio: metrics for tools/top on {}:{}\n", host, metrics_->srv.port());
    } catch (...) {
      shutdown(); // the destructor will not run
      throw;
    }
  }
}

std::uint16_t runtime::metrics_port() const noexcept {
  if (!metrics_) return 0;
  try {
    return metrics_->srv.port();
  } catch (...) {
    return 0;
  }
}

runtime::~runtime() {
  if (scheduler::current() == &scheduler_) {
    fmt::print(stderr, "corio: a runtime was destroyed from one of its own worker threads; that "
                       "would deadlock (a worker cannot join itself). Aborting.\n");
    std::fflush(stderr);
    std::abort();
  }
  if (metrics_) { // stop serving first; its tasks go with the others below
    metrics_->srv.close();
    metrics_->srv.close_clients();
  }
  shutdown();
  metrics_.reset();
  if (!trace_path_.empty()) {
    trace::stop();
    try {
      trace::write_chrome_json(trace_path_);
      fmt::print(stderr, "corio: trace written to {} (open it in https://ui.perfetto.dev)\n", trace_path_);
    } catch (const std::exception& e) {
      fmt::print(stderr, "corio: {}\n", e.what());
    }
  }
}

scheduler_metrics runtime::metrics() const {
  scheduler_metrics m = scheduler_.metrics();
  m.io_completions = io_->completions_handed();
  return m;
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
