#include <corio/detail/connection.hpp>
#include <corio/errors.hpp>
#include <corio/io_errors.hpp>
#include <corio/stream_reader.hpp>

#include <algorithm>

namespace corio {

namespace {

using detail::connection;

// asyncio allows one reader at a time; a second one would interleave bytes unpredictably.
struct read_guard {
  connection& c;
  explicit read_guard(connection& conn) : c(conn) {
    if (c.reading_) throw invalid_state_error("corio: stream_reader: another read is already in progress");
    c.reading_ = true;
  }
  ~read_guard() { c.reading_ = false; }
  read_guard(const read_guard&) = delete;
  read_guard& operator=(const read_guard&) = delete;
};

std::shared_ptr<connection> checked(const std::shared_ptr<connection>& c) {
  if (!c) throw invalid_state_error("corio: stream_reader is empty (default-constructed or moved-from)");
  return c;
}

using fill_result = connection::fill_result;

task<std::string> read_impl(std::shared_ptr<connection> c, std::ptrdiff_t n) {
  read_guard guard(*c);
  if (n == 0) co_return std::string();
  if (n < 0) {
    while (!c->eof_)
      while (co_await c->fill() == fill_result::would_block) {
      }
    co_return c->rbuf_.take(c->rbuf_.size());
  }
  if (c->rbuf_.empty() && !c->eof_)
    while (co_await c->fill() == fill_result::would_block) {
    }
  co_return c->rbuf_.take(std::min(static_cast<std::size_t>(n), c->rbuf_.size()));
}

task<std::string> readexactly_impl(std::shared_ptr<connection> c, std::size_t n) {
  read_guard guard(*c);
  while (c->rbuf_.size() < n) {
    fill_result r = fill_result::eof;
    if (!c->eof_)
      while ((r = co_await c->fill()) == fill_result::would_block) {
      }
    if (r == fill_result::eof) throw incomplete_read_error(c->rbuf_.take(c->rbuf_.size()), n);
  }
  co_return c->rbuf_.take(n);
}

// Finds `sep` in the buffer, scanning only what was not scanned before. Returns the end of the
// chunk (after the separator) or 0, and throws limit_overrun_error as asyncio does.
std::size_t find_separator(connection& c, const std::string& sep, std::size_t& scanned) {
  auto v = c.rbuf_.view();
  std::size_t from = scanned + 1 >= sep.size() ? scanned + 1 - sep.size() : 0;
  std::size_t at = v.find(sep, from);
  if (at != std::string_view::npos) {
    std::size_t end = at + sep.size();
    if (end > c.limit()) throw limit_overrun_error("corio: separator is found, but chunk is longer than limit", at);
    return end;
  }
  scanned = v.size();
  if (v.size() > c.limit()) throw limit_overrun_error("corio: separator is not found, and chunk exceeds the limit", v.size());
  return 0;
}

task<std::string> readuntil_impl(std::shared_ptr<connection> c, std::string sep) {
  if (sep.empty()) throw std::invalid_argument("corio: readuntil: the separator must not be empty");
  read_guard guard(*c);
  std::size_t scanned = 0;
  for (;;) {
    if (std::size_t end = find_separator(*c, sep, scanned)) co_return c->rbuf_.take(end);
    fill_result r = fill_result::eof;
    if (!c->eof_)
      while ((r = co_await c->fill()) == fill_result::would_block) {
      }
    if (r == fill_result::eof) throw incomplete_read_error(c->rbuf_.take(c->rbuf_.size()), std::nullopt);
  }
}

task<std::string> readline_impl(std::shared_ptr<connection> c) {
  try {
    co_return co_await readuntil_impl(c, "\n");
  } catch (const incomplete_read_error& e) {
    co_return e.partial(); // the last line, without "\n" (or "" at end of stream)
  } catch (const limit_overrun_error& e) {
    // Like asyncio: drop the over-long line (through its "\n" if it has arrived, else all that
    // is buffered) so the stream stays usable, then report it.
    auto v = c->rbuf_.view();
    std::size_t nl = v.find('\n', e.consumed());
    c->rbuf_.consume(nl == std::string_view::npos ? v.size() : nl + 1);
    throw;
  }
}

} // namespace

task<std::string> stream_reader::read(std::ptrdiff_t n) { return read_impl(checked(c_), n); }
task<std::string> stream_reader::readline() { return readline_impl(checked(c_)); }
task<std::string> stream_reader::readexactly(std::size_t n) { return readexactly_impl(checked(c_), n); }
task<std::string> stream_reader::readuntil(std::string separator) {
  return readuntil_impl(checked(c_), std::move(separator));
}
bool stream_reader::at_eof() const noexcept { return c_ && c_->eof_ && c_->rbuf_.empty(); }
std::size_t stream_reader::limit() const noexcept { return c_ ? c_->limit() : 0; }

} // namespace corio
