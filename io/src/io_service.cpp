#include "io_thread.hpp"

#include <corio/detail/io_service.hpp>
#include <corio/runtime.hpp>

#include <cstdlib>
#include <string_view>

namespace corio::detail {

io_service::io_service(scheduler& s, std::size_t io_threads, asio::io_context* external, bool yield_to_workers)
    : sched_(s), external_(external) {
  if (external_) return;
  if (io_threads == 0) io_threads = 1;
  for (std::size_t i = 0; i < io_threads; ++i)
    threads_.push_back(std::make_unique<io_thread>(s, i, i == 0, yield_to_workers));
}

io_service::~io_service() { stop(); }

void io_service::start() {
  for (auto& t : threads_) t->start();
}

void io_service::stop() {
  for (auto& t : threads_) t->stop();
  if (auto* q = timers()) q->abandon();
}

asio::io_context& io_service::next_context() noexcept {
  if (external_) return *external_;
  std::size_t i = next_.fetch_add(1, std::memory_order_relaxed) % threads_.size();
  return threads_[i]->context();
}

asio::io_context& io_service::context(std::size_t index) noexcept {
  if (external_) return *external_;
  return threads_[index % threads_.size()]->context();
}

std::uint64_t io_service::completions_handed() const noexcept {
  std::uint64_t n = 0;
  for (auto& t : threads_) n += t->completions_handed();
  return n;
}

std::size_t io_service::size() const noexcept { return external_ ? 1 : threads_.size(); }

bool io_service::readiness_reads() const noexcept {
  static const bool completion_requested = [] {
    const char* v = std::getenv("CORIO_IO_MODE");
    return v && std::string_view(v) == "completion";
  }();
  return !external_ && !completion_requested;
}

ready_poller* io_service::poller_for(asio::io_context& ctx) noexcept {
  if (!readiness_reads()) return nullptr;
  for (auto& t : threads_)
    if (&t->context() == &ctx) return &t->poller();
  return nullptr;
}

timer_queue* io_service::timers() noexcept { return threads_.empty() ? nullptr : threads_[0]->timers(); }

void io_service::add_timer(timer_node* n) noexcept {
  if (threads_[0]->timers()->add(n)) threads_[0]->wake();
}

void io_service::remove_timer(timer_node* n, bool urgent) noexcept {
  if (threads_[0]->timers()->remove(n, urgent)) threads_[0]->wake();
}

io_service& current_io() {
  runtime* rt = runtime::current();
  if (!rt) throw runtime_error("corio: I/O and timers need a corio::runtime (a bare scheduler has no I/O thread)");
  return rt->io();
}

} // namespace corio::detail
