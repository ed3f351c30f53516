#include <corio/detail/connection.hpp>
#include <corio/detail/io_service.hpp>
#include <corio/open_connection.hpp>
#include <corio/use_task.hpp>

#include <asio/connect.hpp>

namespace corio {

detail::connection::options detail::connection::options::from(const stream_options& o) noexcept {
  return {o.limit, o.high_water, o.low_water};
}

task<std::pair<stream_reader, stream_writer>> open_connection(std::string host, std::uint16_t port,
                                                              stream_options options) {
  auto& io = detail::current_io();
  auto& ctx = io.next_context();
  asio::ip::tcp::resolver resolver(ctx);
  auto endpoints = co_await resolver.async_resolve(host, std::to_string(port), use_task);
  asio::ip::tcp::socket sock(ctx);
  co_await asio::async_connect(sock, endpoints, use_task);
  auto opts = detail::connection::options::from(options);
  opts.poller = io.poller_for(ctx);
  auto c = std::make_shared<detail::connection>(std::move(sock), *scheduler::current(), opts);
  co_return std::pair<stream_reader, stream_writer>(stream_reader(c), stream_writer(c));
}

} // namespace corio
