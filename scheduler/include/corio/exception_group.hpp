#pragma once
// corio::exception_group (asyncio's ExceptionGroup): several failures at once, as a task_group
// reports them.
//
//   try {
//     co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<> { ... });
//   } catch (const corio::exception_group& g) {
//     for (auto& e : g.exceptions()) log(e);      // every child that failed, in failure order
//     g.rethrow_first();                           // or handle just the first one
//   }
#include <exception>
#include <stdexcept>
#include <vector>

namespace corio {

class exception_group : public std::runtime_error {
public:
  // `errors` must not be empty.
  explicit exception_group(std::vector<std::exception_ptr> errors);

  const std::vector<std::exception_ptr>& exceptions() const noexcept { return errors_; }
  std::size_t size() const noexcept { return errors_.size(); }
  [[noreturn]] void rethrow_first() const { std::rethrow_exception(errors_.front()); }

private:
  std::vector<std::exception_ptr> errors_;
};

} // namespace corio
