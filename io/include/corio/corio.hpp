#pragma once
// Everything corio offers, in one include.
//
//   #include <corio/corio.hpp>
//   corio::task<void> amain() { co_await corio::gather(a(), b()); }
//   int main() { corio::run(amain()); }
#include <corio/awaitable.hpp>
#include <corio/barrier.hpp>
#include <corio/condition_variable.hpp>
#include <corio/create_task.hpp>
#include <corio/debug.hpp>
#include <corio/errors.hpp>
#include <corio/event.hpp>
#include <corio/exception_group.hpp>
#include <corio/gather.hpp>
#include <corio/join_handle.hpp>
#include <corio/latch.hpp>
#include <corio/metrics.hpp>
#include <corio/offload.hpp>
#include <corio/mutex.hpp>
#include <corio/open_connection.hpp>
#include <corio/outcome.hpp>
#include <corio/queue.hpp>
#include <corio/run.hpp>
#include <corio/runtime.hpp>
#include <corio/io_errors.hpp>
#include <corio/scheduler.hpp>
#include <corio/semaphore.hpp>
#include <corio/server.hpp>
#include <corio/shared_mutex.hpp>
#include <corio/shield.hpp>
#include <corio/stream_reader.hpp>
#include <corio/stream_writer.hpp>
#include <corio/task.hpp>
#include <corio/task_group.hpp>
#include <corio/task_info.hpp>
#include <corio/this_task.hpp>
#include <corio/timeout.hpp>
#include <corio/timer.hpp>
#include <corio/trace.hpp>
#include <corio/unhandled_exception.hpp>
#include <corio/use_task.hpp>
#include <corio/wait.hpp>
#include <corio/with.hpp>
#include <corio/yield.hpp>
