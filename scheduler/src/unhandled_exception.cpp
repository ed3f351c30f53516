#include <corio/unhandled_exception.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

namespace corio {

namespace {
std::mutex handler_mu;
unhandled_exception_handler& handler_slot() {
  static unhandled_exception_handler h;
  return h;
}
} // namespace

std::string describe_exception(const std::exception_ptr& error) {
  if (!error) return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

unhandled_exception_handler set_unhandled_exception_handler(unhandled_exception_handler handler) {
  std::lock_guard lock(handler_mu);
  return std::exchange(handler_slot(), std::move(handler));
}

void report_unhandled_exception(std::exception_ptr error, std::string_view context) noexcept {
  unhandled_exception_handler h;
  {
    std::lock_guard lock(handler_mu);
    h = handler_slot();
  }
  unhandled_exception_info info{std::move(error), context};
  try {
    if (h) {
      h(info);
      return;
    }
    fmt::print(stderr, "corio: {}: {}\n", context, describe_exception(info.error));
    std::fflush(stderr);
  } catch (...) {
    // A reporter has nowhere left to report to; dropping is better than terminating.
  }
}

} // namespace corio
