#pragma once
// The errors corio's I/O reports, as typed exceptions (asyncio's OSError subclasses,
// LimitOverrunError and IncompleteReadError).
//
//   try { auto [r, w] = co_await corio::open_connection("localhost", 1); }
//   catch (const corio::io_error& e) {
//     if (e.code() == asio::error::connection_refused) { ... }
//   }
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace corio {

// A failed I/O operation; code() is the std::error_code Asio or the system reported
// (connection refused or reset, broken pipe, host not found, timed out, ...).
class io_error : public std::system_error {
public:
  using std::system_error::system_error;
};

// A line or separator-delimited chunk longer than the stream's limit (asyncio.LimitOverrunError).
// consumed() is how many bytes were looked at without finding the separator.
class limit_overrun_error : public std::runtime_error {
public:
  limit_overrun_error(const std::string& what, std::size_t consumed) : std::runtime_error(what), consumed_(consumed) {}
  std::size_t consumed() const noexcept { return consumed_; }

private:
  std::size_t consumed_;
};

// The stream ended before readexactly()/readuntil() could complete (asyncio.IncompleteReadError).
// partial() holds what was read; expected() the size asked for, if there was one.
class incomplete_read_error : public std::runtime_error {
public:
  incomplete_read_error(std::string partial, std::optional<std::size_t> expected)
      : std::runtime_error(message(partial.size(), expected)), partial_(std::move(partial)), expected_(expected) {}
  const std::string& partial() const noexcept { return partial_; }
  std::optional<std::size_t> expected() const noexcept { return expected_; }

private:
  static std::string message(std::size_t got, std::optional<std::size_t> expected) {
    return std::to_string(got) + " bytes read on a total of " +
           (expected ? std::to_string(*expected) : std::string("undefined")) + " expected bytes";
  }
  std::string partial_;
  std::optional<std::size_t> expected_;
};

} // namespace corio
