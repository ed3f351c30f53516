// The table behind initial_awaiter's rare case (promise.hpp): a task frame so big that its
// promise lies 32 KiB or more away from the awaiter. Only such frames come here, so a map under a
// mutex is fine. Nothing here may throw: GCC 12 frees the frame twice when an exception leaves an
// initial suspension's await_suspend.
#include <corio/detail/promise.hpp>

#include <mutex>
#include <unordered_map>

namespace corio::detail {

namespace {

struct far_table {
  std::mutex mu;
  std::unordered_map<const void*, promise_base*> by_awaiter;
};

// Never destroyed: a far frame may still be destroyed by a static runtime's shutdown at exit.
far_table& table() noexcept {
  static far_table* t = new far_table;
  return *t;
}

} // namespace

void hold_far_promise(const void* awaiter, promise_base* p) noexcept {
  far_table& t = table();
  std::lock_guard lock(t.mu);
  t.by_awaiter[awaiter] = p; // out of memory here ends the program (noexcept), as a frame would
}

promise_base* take_far_promise(const void* awaiter) noexcept {
  far_table& t = table();
  std::lock_guard lock(t.mu);
  return t.by_awaiter.extract(awaiter).mapped();
}

void release_far_promise(const void* awaiter) noexcept {
  far_table& t = table();
  std::lock_guard lock(t.mu);
  t.by_awaiter.erase(awaiter);
}

std::size_t far_promises_held() noexcept {
  far_table& t = table();
  std::lock_guard lock(t.mu);
  return t.by_awaiter.size();
}

} // namespace corio::detail
