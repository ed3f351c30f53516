#pragma once
// corio::run (asyncio.run): the entry point of a corio program.
//
//   corio::task<int> amain() { co_return 0; }
//   int main() { return corio::run(amain()); }
//
// Starts a runtime, runs the task to completion on it, shuts the runtime down and returns the
// task's value (or rethrows its exception). Tasks still pending at that point are destroyed
// (their frames and everything they own are freed). Call it from an ordinary thread, not from
// inside a task: there it throws corio::runtime_error (co_await the task instead).
#include <corio/runtime.hpp>
#include <corio/task.hpp>

namespace corio {

template <class T>
T run(task<T> main_task, runtime_options options = {}) {
  runtime rt(options);
  if constexpr (std::is_void_v<T>) {
    rt.block_on(std::move(main_task));
    rt.shutdown();
  } else {
    T value = rt.block_on(std::move(main_task));
    rt.shutdown();
    return value;
  }
}

} // namespace corio
