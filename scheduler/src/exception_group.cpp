#include <corio/exception_group.hpp>

#include <fmt/core.h>

#include <string>
#include <utility>

namespace corio {

namespace {
std::string describe(const std::vector<std::exception_ptr>& errors) {
  std::string first = "unknown exception";
  try {
    if (!errors.empty()) std::rethrow_exception(errors.front());
  } catch (const std::exception& e) {
    first = e.what();
  } catch (...) {
  }
  return fmt::format("corio: {} task{} failed; the first: {}", errors.size(), errors.size() == 1 ? "" : "s", first);
}
} // namespace

exception_group::exception_group(std::vector<std::exception_ptr> errors)
    : std::runtime_error(describe(errors)), errors_(std::move(errors)) {}

} // namespace corio
