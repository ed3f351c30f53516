#pragma once
// corio::run (asyncio.run): the entry point of a corio program.
//
//   corio::task<int> amain() { co_return 0; }
//   int main() { return corio::run(amain()); }
//
// Starts a runtime, runs the task to completion on it and returns its value (or rethrows its
// exception). Then, as asyncio.run does, it cancels the tasks still pending and waits for them
// to finish (their cleanup runs: catch blocks, with() teardowns), up to
// runtime_options::shutdown_grace; any left after that are destroyed, and a line on stderr says
// how many. Call it from an ordinary thread, not from inside a task: there it throws
// corio::runtime_error (co_await the task instead).
#include <corio/runtime.hpp>
#include <corio/task.hpp>

#include <exception>

namespace corio {

namespace detail {
// Cancels and awaits the stragglers (see above) and shuts rt down.
void finish_run(runtime& rt) noexcept;
} // namespace detail

template <class T>
T run(task<T> main_task, runtime_options options = {}) {
  runtime rt(options);
  try {
    if constexpr (std::is_void_v<T>) {
      rt.block_on(std::move(main_task));
      detail::finish_run(rt);
    } else {
      T value = rt.block_on(std::move(main_task));
      detail::finish_run(rt);
      return value;
    }
  } catch (...) {
    detail::finish_run(rt); // the main task failed: the others still get their cleanup
    throw;
  }
}

} // namespace corio
