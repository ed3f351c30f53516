#include <corio/detail/locked_start.hpp>

#include <corio/create_task.hpp>
#include <corio/detail/connection.hpp>
#include <corio/detail/io_service.hpp>
#include <corio/server.hpp>
#include <corio/timer.hpp>
#include <corio/unhandled_exception.hpp>
#include <corio/use_task.hpp>

#include <asio/ip/v6_only.hpp>

#include <algorithm>
#include <chrono>

namespace corio {

namespace detail {

struct server_state : std::enable_shared_from_this<server_state> {
  connection_handler handler;
  server_options opts;
  scheduler* sched = nullptr;
  io_service* io = nullptr;
  std::vector<asio::ip::tcp::endpoint> endpoints;

  std::mutex mu;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors; // under mu
  bool closed = false;                                              // under mu
  std::size_t active = 0;                                           // under mu
  std::vector<std::weak_ptr<connection>> live;                      // under mu, for close_clients
  std::vector<conn_waiter> serve_waiters, closed_waiters;           // under mu

  void wake(std::vector<conn_waiter>& ws) { wake_parked(ws); }
};

namespace {

bool resource_exhausted(const std::error_code& ec) {
  return ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system ||
         ec == std::errc::no_buffer_space || ec == std::errc::not_enough_memory;
}

task<void> run_handler(std::shared_ptr<server_state> st, std::shared_ptr<connection> c) {
  try {
    co_await st->handler(stream_reader(c), stream_writer(c));
  } catch (const cancelled_error&) {
    // cancelled (a runtime shutdown, or the application): not a failure
  } catch (...) {
    report_unhandled_exception(std::current_exception(), "Unhandled exception in a start_server connection handler");
  }
  c.reset(); // the handler's reader and writer are gone: the connection closes once sent
  std::lock_guard lock(st->mu);
  if (--st->active == 0 && st->closed) st->wake(st->closed_waiters);
}

task<void> accept_loop(std::shared_ptr<server_state> st, std::size_t index) {
  for (;;) {
    asio::io_context& target = st->io->next_context(); // spread sockets over the I/O threads
    std::error_code ec;
    asio::ip::tcp::socket sock(target);
    try {
      sock = co_await locked_start{st, st->mu, st->closed, st->acceptors[index]->async_accept(target, use_task)};
    } catch (const io_error& e) {
      ec = e.code();
    }
    if (ec) {
      {
        std::lock_guard lock(st->mu);
        if (st->closed) co_return;
      }
      if (ec == asio::error::operation_aborted) co_return;
      if (resource_exhausted(ec)) {
        // Out of descriptors or memory: report, back off, keep serving (asyncio pauses 1 s).
        report_unhandled_exception(std::make_exception_ptr(io_error(ec)), "start_server: accept failed; retrying in 100 ms");
        co_await sleep(std::chrono::milliseconds(100));
      }
      continue; // a connection reset before it was accepted, and the like
    }
    auto opts = connection::options::from(st->opts.streams);
    opts.poller = st->io->poller_for(target);
    auto c = std::make_shared<connection>(std::move(sock), *st->sched, opts);
    {
      std::lock_guard lock(st->mu);
      if (st->closed) continue; // closed meanwhile: drop it
      ++st->active;
      std::erase_if(st->live, [](const std::weak_ptr<connection>& w) { return w.expired(); });
      st->live.push_back(c);
    }
    // Always runs its body, even if cancelled at once: it keeps the server's count of handlers.
    create_task(deliver_at_first_suspension(run_handler(st, std::move(c)))).detach();
  }
}

} // namespace
} // namespace detail

task<server> start_server(connection_handler handler, std::string host, std::uint16_t port, server_options options) {
  if (!handler) throw std::invalid_argument("corio: start_server needs a connection handler");
  auto st = std::make_shared<detail::server_state>();
  st->handler = std::move(handler);
  st->opts = options;
  st->sched = scheduler::current();
  st->io = &detail::current_io();

  auto& ctx = st->io->context(0);
  asio::ip::tcp::resolver resolver(ctx);
  auto results = co_await resolver.async_resolve(host, std::to_string(port), asio::ip::resolver_base::passive, use_task);
  for (const auto& entry : results) {
    auto ep = entry.endpoint();
    auto a = std::make_unique<asio::ip::tcp::acceptor>(ctx);
    std::error_code ec;
    a->open(ep.protocol(), ec);
    if (!ec && options.reuse_address) a->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ep.address().is_v6()) a->set_option(asio::ip::v6_only(true), ec);
    if (!ec) a->bind(ep, ec);
    if (!ec) a->listen(options.backlog, ec);
    if (ec) throw io_error(ec, "corio: start_server: cannot listen on " + ep.address().to_string() + ":" + std::to_string(ep.port()));
    st->endpoints.push_back(a->local_endpoint());
    st->acceptors.push_back(std::move(a));
  }
  if (st->acceptors.empty()) throw io_error(asio::error::host_not_found, "corio: start_server: no address to listen on");
  for (std::size_t i = 0; i < st->acceptors.size(); ++i) create_task(detail::accept_loop(st, i)).detach();
  co_return server(st);
}

std::uint16_t server::port() const { return s_ && !s_->endpoints.empty() ? s_->endpoints.front().port() : 0; }
std::vector<asio::ip::tcp::endpoint> server::sockets() const { return s_ ? s_->endpoints : std::vector<asio::ip::tcp::endpoint>{}; }

bool server::is_serving() const {
  if (!s_) return false;
  std::lock_guard lock(s_->mu);
  return !s_->closed;
}

std::size_t server::active_connections() const {
  if (!s_) return 0;
  std::lock_guard lock(s_->mu);
  return s_->active;
}

void server::close() {
  if (!s_) return;
  std::lock_guard lock(s_->mu);
  if (s_->closed) return;
  s_->closed = true;
  for (auto& a : s_->acceptors) {
    std::error_code ec;
    a->close(ec); // pending accepts complete with operation_aborted
  }
  s_->wake(s_->serve_waiters);
  if (s_->active == 0) s_->wake(s_->closed_waiters);
}

void server::close_clients() {
  if (!s_) return;
  std::vector<std::shared_ptr<detail::connection>> open;
  {
    std::lock_guard lock(s_->mu);
    for (auto& w : s_->live)
      if (auto c = w.lock()) open.push_back(std::move(c));
  }
  for (auto& c : open) c->close();
}

task<void> server::serve_forever() {
  auto st = s_;
  if (!st) co_return;
  auto closed = [](const void* s) { return static_cast<const detail::server_state*>(s)->closed; };
  try {
    co_await detail::parked_wait(st->mu, st->serve_waiters, closed, st.get());
  } catch (const cancelled_error&) {
    close(); // as asyncio: cancelling serve_forever closes the server
    throw;
  }
}

task<void> server::wait_closed() {
  auto st = s_;
  if (!st) co_return;
  auto done = [](const void* p) {
    auto* s = static_cast<const detail::server_state*>(p);
    return s->closed && s->active == 0;
  };
  co_await detail::parked_wait(st->mu, st->closed_waiters, done, st.get());
}

} // namespace corio
