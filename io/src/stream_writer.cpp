#include <corio/detail/connection.hpp>
#include <corio/errors.hpp>
#include <corio/stream_writer.hpp>

#include <fmt/core.h>

namespace corio {

namespace {
detail::connection& get(const std::shared_ptr<detail::connection>& c) {
  if (!c) throw invalid_state_error("corio: stream_writer is empty (default-constructed or moved-from)");
  return *c;
}

std::shared_ptr<detail::connection> checked(const std::shared_ptr<detail::connection>& c) {
  get(c);
  return c;
}

std::string format(const asio::ip::tcp::endpoint& e) {
  auto a = e.address();
  return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), e.port()) : fmt::format("{}:{}", a.to_string(), e.port());
}

task<void> wait_closed_impl(std::shared_ptr<detail::connection> c) { co_await c->wait_closed(); }
} // namespace

std::size_t stream_writer::write(std::string_view data) { return get(c_).write(data); }
detail::connection::drain_awaiter stream_writer::drain() { return checked(c_)->drain(); }
void stream_writer::write_eof() { get(c_).write_eof(); }
void stream_writer::close() { get(c_).close(); }
void stream_writer::abort() { get(c_).abort(); }
bool stream_writer::is_closing() const { return get(c_).is_closing(); }
task<void> stream_writer::wait_closed() { return wait_closed_impl(checked(c_)); }
std::size_t stream_writer::buffered() const { return get(c_).buffered(); }
asio::ip::tcp::endpoint stream_writer::peername() const { return get(c_).peer(); }
asio::ip::tcp::endpoint stream_writer::sockname() const { return get(c_).local(); }

std::optional<std::string> stream_writer::get_extra_info(std::string_view name) const {
  if (name == "peername") return format(peername());
  if (name == "sockname") return format(sockname());
  return std::nullopt;
}

} // namespace corio
