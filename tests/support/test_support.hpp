#pragma once
// Helpers shared by corio's tests.
#include <corio/unhandled_exception.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace corio_test {

// Sanitizers slow code down 5-20x; heavy tests shrink their sizes there but keep their shape.
constexpr bool sanitized() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

constexpr bool thread_sanitized() {
#if defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

inline std::size_t scaled(std::size_t n, std::size_t divisor = 10) { return sanitized() ? n / divisor : n; }

// Process CPU time (user + system) in seconds.
inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Collects what the unhandled-exception handler receives while it is alive.
class captured_reports {
public:
  captured_reports() {
    previous_ = corio::set_unhandled_exception_handler([this](const corio::unhandled_exception_info& info) {
      std::lock_guard lock(mu_);
      reports_.push_back({std::string(info.context), corio::describe_exception(info.error)});
    });
  }
  ~captured_reports() { corio::set_unhandled_exception_handler(std::move(previous_)); }

  struct report {
    std::string context;
    std::string what;
  };
  std::vector<report> get() {
    std::lock_guard lock(mu_);
    return reports_;
  }

private:
  std::mutex mu_;
  std::vector<report> reports_;
  corio::unhandled_exception_handler previous_;
};

} // namespace corio_test
