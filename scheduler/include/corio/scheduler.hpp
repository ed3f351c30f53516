#pragma once
// corio::scheduler: the work-stealing executor every corio coroutine runs on.
//
// Most programs use corio::runtime (runtime.hpp), which owns a scheduler plus the I/O thread;
// the scheduler is public for the pieces built on it and for embedding without I/O.
//
//   corio::scheduler s({.workers = 4});
//   int v = s.block_on(compute());          // from a non-worker thread
//   auto h = s.spawn(background());          // from any thread
//   s.shutdown();                            // or let the destructor do it
//
// schedule(h) is the one door through which every wake-up enters: on one of this scheduler's
// workers it goes to that worker's LIFO slot, from anywhere else to the global injection queue
// (waking a parked worker when no worker is looking for work). See scheduler/README.md.
#include <corio/detail/task_names.hpp>
#include <corio/task_info.hpp>
#include <corio/detail/promise.hpp>
#include <corio/errors.hpp>
#include <corio/join_handle.hpp>
#include <corio/metrics.hpp>
#include <corio/task.hpp>

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

namespace corio {

struct scheduler_options {
  // Worker threads; 0 means std::thread::hardware_concurrency().
  std::size_t workers = 0;
  // How long a worker that ran out of work keeps looking before it parks. Waking a parked
  // thread costs 20-80 us on the VMs we measure on, so a spin of this order pays for itself
  // whenever work arrives soon; an idle runtime still parks within this time (~0% CPU).
  std::chrono::microseconds spin_before_park{50};
  // Threads of the oneTBB arena that runs offload() jobs; 0 means hardware_concurrency(), i.e.
  // workers and TBB threads share the cores (see scheduler/README.md for the measurements).
  std::size_t offload_threads = 0;
  // Nice value offload's TBB threads take while they run corio jobs (0 leaves it alone). At +10,
  // CPU-bound jobs yield to the workers and the I/O thread when those need a core, and take every
  // cycle they leave: a task ticking every 1 ms during 32 offloaded jobs saw p99 lateness of 2 ms
  // instead of 7 ms (bench offload_latency, 2-vCPU VM, workers and TBB sharing the cores).
  int offload_nice = 10;
  // Debug mode (debug.hpp): report coroutine steps that hold a worker longer than the threshold.
  // Also on when CORIO_DEBUG=1.
  bool debug = false;
  std::chrono::milliseconds slow_step_threshold{100};
};

class scheduler {
public:
  explicit scheduler(scheduler_options options = {});
  // Shuts down. Calling it from one of its own workers would deadlock, so that aborts with a
  // message instead.
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  // Runs t to completion on the workers and returns its value or rethrows its exception.
  // Blocks the calling thread, so it throws corio::runtime_error when called from a worker
  // (use co_await there), or after shutdown().
  template <class T>
  T block_on(task<T> t);

  // Starts t on the workers from any thread (create_task's thread-safe twin). Throws
  // corio::runtime_error after shutdown(), invalid_state_error for an empty or started task.
  template <class T>
  join_handle<T> spawn(task<T> t);
  // The same, with a name for all_tasks(), traces and slow-step reports (corio/task_info.hpp).
  template <class T>
  join_handle<T> spawn(task<T> t, std::string name);

  // Every live spawned task (corio/task_info.hpp). Call from a thread that is not one of this
  // scheduler's workers (inside a task: co_await corio::all_tasks()); each worker answers between
  // two steps, so a worker stuck in a long step delays the answer by up to ~1 s, after which the
  // tasks registered on it are left out, except the coroutine it is stuck in (listed as running).
  std::vector<task_snapshot> all_tasks();

  // Stops the workers after their current step, joins them and destroys every task that has
  // not finished (their join_handles then report cancelled_error). Idempotent. Throws
  // corio::runtime_error when called from one of this scheduler's workers.
  // `after_workers_stopped` runs between the two halves (the runtime stops its I/O threads there,
  // so no completion arrives while frames are destroyed).
  void shutdown(std::function<void()> after_workers_stopped = {});
  bool is_shut_down() const noexcept;

  // What cancel_pending (and runtime::shutdown(deadline)) did.
  struct cancel_report {
    std::size_t cancelled = 0; // tasks it requested cancellation of
    std::size_t left = 0;      // tasks still unfinished when it gave up at the deadline
  };
  // Cancels every spawned task that has not finished (join_handle::cancel on each) and waits
  // until they have all finished or the deadline passes (asyncio.run's last step). Tasks spawned
  // meanwhile are cancelled too; a task is asked only once. Call from outside the workers
  // (throws corio::runtime_error from one of them); after shutdown it reports nothing.
  cancel_report cancel_pending(std::chrono::steady_clock::time_point deadline);

  std::size_t worker_count() const noexcept;
  scheduler_metrics metrics() const;

  // The one door for wake-ups. Thread-safe; never resumes h on the caller's stack.
  void schedule(std::coroutine_handle<> h) noexcept;
  // Wakes several coroutines at once with at most one worker wake-up (used for I/O batches).
  void schedule_batch(std::span<const std::coroutine_handle<>> hs) noexcept;

  // The scheduler whose worker is running the calling thread, or nullptr.
  static scheduler* current() noexcept { return detail::current_scheduler(); }

  // An opaque pointer for the layer that owns this scheduler (corio::runtime sets itself here,
  // so code running on a worker can find its runtime's I/O threads).
  void* context() const noexcept { return context_; }
  void set_context(void* c) noexcept { context_ = c; }

  // Internal: registers a spawned task and queues it (create_task/spawn).
  void spawn_task(detail::promise_base& p, std::coroutine_handle<> h);

  struct impl;
  impl* impl_for_offload() noexcept { return impl_.get(); }

private:
  template <class T>
  join_handle<T> spawn_with_name(task<T> t, std::string* name); // name: null for none
  void spawn_from_outside(std::coroutine_handle<> h); // spawn_task from a thread not its worker
  std::unique_ptr<impl> impl_;
  void* context_ = nullptr;
};

namespace detail {

// Runs fn(arg) on the calling worker at the end of its current turn: once it has no local task
// ready, or after a few more steps at most (max_turn_steps in worker.cpp). Returns false, doing
// nothing, when not called on a worker. The I/O layer sends a connection's output this way: what
// several steps wrote to one connection leaves in one send (a chat broadcast's fan-out).
bool defer_to_end_of_turn(void (*fn)(void*), void* arg) noexcept;

// True when the calling worker has other tasks ready to run (its queues, or the global queue):
// a coroutine that would otherwise wait for an event that is likely to come soon can yield
// instead, and look again after them.
bool worker_has_other_work() noexcept;

// Takes the coroutine out of t and marks it spawned; validates misuse.
template <class T>
std::coroutine_handle<promise<T>> prepare_spawn(task<T>& t, bool with_handle = true) {
  auto h = t.release();
  if (!h) throw invalid_state_error("corio: cannot spawn an empty task (moved-from or spawned)");
  if (h.promise().continuation_ || h.done()) {
    t = task<T>(h); // give it back so it is destroyed with t, not leaked
    throw invalid_state_error("corio: cannot spawn a task that was already awaited");
  }
  assert(reinterpret_cast<char*>(&h.promise()) - static_cast<char*>(h.address()) == promise_base::promise_offset);
  // The root of its own await chain. Its promise's root_ word, null since the task was never
  // awaited, now reads as waiting_on_ (null: waits in nothing); not written here, as a task_group
  // may already cancel the task, which reads that word under the cancel lock.
  h.promise().spawned_ = true;
  // Nobody else writes the state word yet (a task_group may already read it): a plain update,
  // keeping the block size bits.
  if (with_handle) {
    auto& state = header_of(h.address())->state;
    state.store(state.load(std::memory_order_relaxed) | handle_live, std::memory_order_relaxed);
  }
  return h;
}

// Spawns t with no join_handle at all (internal drivers; saves the handle's atomic release).
template <class T>
void spawn_detached(scheduler& s, task<T> t);

// What block_on waits on. The driver task signals it when it finishes or is destroyed.
template <class T>
struct blocking_result {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  using stored = std::conditional_t<std::is_void_v<T>, char,
                                    std::conditional_t<std::is_reference_v<T>, std::remove_reference_t<T>*, T>>;
  std::optional<stored> value;
  std::exception_ptr error;

  void finish() {
    std::lock_guard lock(mu); // notify under the lock: the waiter may destroy *this right after
    finished = true;
    cv.notify_one();
  }
  void wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return finished; });
  }
};

template <class T>
struct finish_on_exit {
  blocking_result<T>& r;
  ~finish_on_exit() { r.finish(); }
};

template <class T>
task<void> block_on_driver(task<T> t, blocking_result<T>& r) {
  finish_on_exit<T> guard{r};
  // The awaited task (and everything its frame holds) is destroyed before block_on returns.
  task<T> main_task = std::move(t);
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(main_task);
      r.value.emplace();
    } else if constexpr (std::is_reference_v<T>) {
      r.value.emplace(std::addressof(co_await std::move(main_task)));
    } else {
      r.value.emplace(co_await std::move(main_task));
    }
  } catch (...) {
    r.error = std::current_exception();
  }
  main_task = task<T>();
}

void check_block_on_allowed(const scheduler& s);

// For internal tasks that must run their body to report back (block_on's driver, gather
// branches, wait() watchers, task_group children): a cancellation made before such a task starts
// is left for its first suspension point, instead of skipping the body.
template <class T>
task<T> deliver_at_first_suspension(task<T> t) noexcept {
  auto h = t.release();
  if (h) h.promise().deliver_at_start_ = false;
  return task<T>(h);
}

// For internal tasks that serve others and must never stop half-way (a connection's flush): no
// cancellation reaches them (cancel() returns false, and cancel_pending passes them by).
template <class T>
task<T> never_cancelled(task<T> t) noexcept {
  auto h = t.release();
  if (h) header_of(h.address())->cancel.fetch_or(cancel_closed, std::memory_order_relaxed);
  return task<T>(h);
}

} // namespace detail

template <class T>
T scheduler::block_on(task<T> t) {
  detail::check_block_on_allowed(*this);
  detail::blocking_result<T> r;
  spawn(detail::deliver_at_first_suspension(detail::block_on_driver(std::move(t), r))).detach();
  r.wait();
  if (r.error) std::rethrow_exception(r.error);
  if (!r.value) throw cancelled_error("corio: block_on's task was destroyed by a runtime shutdown");
  if constexpr (std::is_reference_v<T>)
    return **r.value;
  else if constexpr (!std::is_void_v<T>)
    return std::move(*r.value);
}

template <class T>
join_handle<T> scheduler::spawn(task<T> t) {
  return spawn_with_name(std::move(t), nullptr);
}

template <class T>
join_handle<T> scheduler::spawn(task<T> t, std::string name) {
  return spawn_with_name(std::move(t), &name);
}

template <class T>
join_handle<T> scheduler::spawn_with_name(task<T> t, std::string* name) {
  auto h = detail::prepare_spawn(t);
  try {
    if (name) detail::name_task(detail::header_of(h.address()), std::move(*name));
    spawn_task(h.promise(), h);
  } catch (...) { // not registered nor queued: destroy it here
    h.promise().spawned_ = false; // its promise's root_ word is still null (see prepare_spawn)
    auto& state = detail::header_of(h.address())->state;
    state.store(state.load(std::memory_order_relaxed) & ~detail::handle_live, std::memory_order_relaxed);
    h.destroy();
    throw;
  }
  return join_handle<T>(h);
}

template <class T>
void detail::spawn_detached(scheduler& s, task<T> t) {
  auto h = prepare_spawn(t, false);
  try {
    s.spawn_task(h.promise(), h);
  } catch (...) {
    h.promise().spawned_ = false;
    h.destroy();
    throw;
  }
}

} // namespace corio
