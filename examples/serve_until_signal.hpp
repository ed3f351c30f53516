#pragma once
// The server examples' ending: serve until Ctrl-C (SIGINT) or SIGTERM, then stop accepting, end
// the open connections and wait for their handlers, so main returns through corio::run's clean
// shutdown (and a CORIO_TRACE recording gets written, see tools/profile).
#include <corio/corio.hpp>

#include <asio/signal_set.hpp>

#include <csignal>

namespace example {

inline corio::task<void> serve_until_signal(corio::server& server) {
  asio::signal_set signals(corio::runtime::current()->io_context(), SIGINT, SIGTERM);
  co_await signals.async_wait(corio::use_task);
  server.close();
  server.close_clients();
  co_await server.wait_closed();
}

} // namespace example
