#pragma once
// Where failures that nobody can receive are reported (asyncio's "Task exception was never
// retrieved" and loop.set_exception_handler).
//
// Reported: a detached task that ends with an exception; a finished task whose handle is dropped
// without awaiting it; every exception of a gather after the one it rethrows.
//
//   auto previous = corio::set_unhandled_exception_handler(
//       [](const corio::unhandled_exception_info& info) { log_error(info.context, info.error); });
//
// The default handler prints one line with fmt to stderr. Handlers run on whichever thread
// noticed the failure (usually a worker) and must not throw.
#include <exception>
#include <functional>
#include <string_view>

namespace corio {

struct unhandled_exception_info {
  std::exception_ptr error;
  std::string_view context; // e.g. "Task exception was never retrieved"
};

using unhandled_exception_handler = std::function<void(const unhandled_exception_info&)>;

// Replaces the process-wide handler (nullptr restores the default); returns the previous one.
unhandled_exception_handler set_unhandled_exception_handler(unhandled_exception_handler handler);

// Sends one failure to the current handler.
void report_unhandled_exception(std::exception_ptr error, std::string_view context) noexcept;

// "what()" of an exception_ptr, or a description when it is not a std::exception.
std::string describe_exception(const std::exception_ptr& error);

} // namespace corio
