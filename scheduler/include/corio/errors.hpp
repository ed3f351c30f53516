#pragma once
// The exceptions corio throws, one type per kind of failure, so callers can catch exactly
// what they can handle.
//
//   try { co_await handle; }
//   catch (const corio::cancelled_error&) { /* the task was cancelled or torn down */ }
//   catch (const corio::invalid_state_error& e) { /* a programming error, e.g. awaited twice */ }
#include <stdexcept>
#include <string>

namespace corio {

// Misuse of a runtime that would otherwise deadlock or touch a dead runtime: block_on() from a
// worker thread, create_task() outside any runtime, spawn() after shutdown().
class runtime_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// An object used in a state that does not allow the operation (asyncio.InvalidStateError):
// awaiting a task or join_handle twice, awaiting a moved-from one.
class invalid_state_error : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

// The awaited work was cancelled (asyncio.CancelledError). Also what a join_handle reports when
// its task was destroyed, unfinished, by a runtime shutdown.
class cancelled_error : public std::runtime_error {
public:
  cancelled_error() : std::runtime_error("corio: the task was cancelled") {}
  explicit cancelled_error(const std::string& what) : std::runtime_error(what) {}
};

// A timeout (wait_for, timeout, timeout_at) expired before the work finished
// (asyncio.TimeoutError); the work was cancelled and awaited before this was thrown.
class timeout_error : public std::runtime_error {
public:
  timeout_error() : std::runtime_error("corio: the operation timed out") {}
  explicit timeout_error(const std::string& what) : std::runtime_error(what) {}
};

} // namespace corio
