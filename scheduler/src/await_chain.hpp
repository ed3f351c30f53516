#pragma once
// Internal: walking a suspended task's await chain (task_info.hpp), from the coroutine that
// waits outwards through promise_base::continuation_ and the byte offsets recorded when each
// coroutine was awaited.
#include <corio/task_info.hpp>

#include <string>
#include <vector>

namespace corio::detail {

struct cancel_registration;

// One step of a chain, as read while the chain cannot change: the frame and its resume function.
struct raw_frame {
  const void* frame = nullptr; // null: a coroutine that is not a corio task
  const void* resume = nullptr;
};

// The chain that ends in the coroutine suspended in r, outermost first. Call with the root's
// cancel lock held while r is armed (or while no worker runs): the frames cannot move on then.
std::vector<raw_frame> read_await_chain(const cancel_registration& r);
// Names the functions (takes the symboliser's lock; call without the cancel lock).
std::vector<await_frame> name_await_chain(const std::vector<raw_frame>& raw);
// One indented line per coroutine, "-> " before all but the outermost.
std::string format_await_chain(const std::vector<await_frame>& chain);

} // namespace corio::detail
