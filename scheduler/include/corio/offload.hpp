#pragma once
// corio::offload (asyncio.to_thread / loop.run_in_executor): run a CPU-heavy or blocking
// function on the runtime's oneTBB task arena and await its result, while the workers keep
// serving other tasks.
//
//   double total = co_await corio::offload([](const std::vector<double>& v) {
//     return tbb::parallel_reduce(...);             // TBB algorithms inside run in the same arena
//   }, samples);                                    // samples is copied into the job
//   auto [page, sum] = co_await corio::gather(fetch(url), corio::offload(checksum, data));
//
// fn(args...) runs on a TBB thread; the awaiting task resumes on a worker (through the
// scheduler) with fn's value or its exception as thrown (void and move-only results work). The
// arguments are decay-copied into the job, so nothing dangles; pass std::ref to share on purpose.
// No worker ever blocks waiting for the job. Use it for blocking APIs too (a blocking DNS lookup,
// a file read): such a call on a worker would stall every task queued behind it. What it costs:
// one small allocation and two thread hand-offs (~10-50 us on these VMs): worth it for work of
// a millisecond or more, not for microseconds.
// Cancellation (see join_handle::cancel): the awaiting task resumes at once with
// cancelled_error; the job itself runs to completion on its TBB thread and its result (or
// exception) is discarded. The job owns its copied arguments, so that is safe; arguments passed
// with std::ref must then outlive the job, not just the await. Must be awaited inside a corio runtime (throws corio::runtime_error otherwise).
// The copied arguments and the function are destroyed on the TBB thread when the call returns,
// before the task resumes, so what they own is released by then. A reference result (to an
// argument, to a capture) stays valid until the end of the co_await expression, as a
// temporary's would; a view result (string_view, span) must not point into them.
// The arena's size and placement are runtime options (cpu_pool.hpp / scheduler_options).
#include <corio/detail/cancel.hpp>
#include <corio/errors.hpp>
#include <corio/scheduler.hpp>

#include <coroutine>
#include <exception>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace corio {

namespace detail {

// What runs on the TBB thread: the function, its arguments, and where to put the outcome.
struct offload_job_base {
  virtual ~offload_job_base() = default;
  virtual void run() noexcept = 0;
  std::coroutine_handle<> waiter{};
  scheduler* sched = nullptr;
  // Who resumes the waiter: the pool when the job is done, or a cancellation that came first.
  static constexpr int running = 0, done = 1, abandoned = 2;
  std::atomic<int> state{running};
  // Called by the pool after run(): resumes the waiter unless a cancellation already did.
  void finish_and_wake() noexcept {
    scheduler* s = sched;
    auto w = waiter;
    int expected = running;
    if (state.compare_exchange_strong(expected, done, std::memory_order_acq_rel)) s->schedule(w);
  }
};

// Hands the job to the scheduler's CPU pool (creating the pool on first use). The pool owns a
// reference until the job has run and scheduled its waiter. Throws runtime_error after shutdown.
void submit_offload(scheduler& s, std::shared_ptr<offload_job_base> job);

template <class R>
struct offload_outcome {
  std::optional<std::conditional_t<std::is_void_v<R>, char, std::conditional_t<std::is_reference_v<R>, std::reference_wrapper<std::remove_reference_t<R>>, R>>> value;
  std::exception_ptr error;
};

template <class F, class Args, class R>
struct offload_job final : offload_job_base {
  offload_job(F f, Args a) : work(std::in_place, std::move(f), std::move(a)) {}
  // The function and its arguments, destroyed on the TBB thread as soon as the call returns:
  // whatever they own (a captured shared_ptr, a buffer) is released before the awaiting task
  // resumes, not whenever the pool drops its last reference to the job. Not when the result is
  // a reference: it may point into them, and must stay valid until the await's caller read it.
  std::optional<std::pair<F, Args>> work;
  offload_outcome<R> out;

  void run() noexcept override {
    try {
      if constexpr (std::is_void_v<R>) {
        std::apply(std::move(work->first), std::move(work->second));
        out.value.emplace();
      } else {
        out.value.emplace(std::apply(std::move(work->first), std::move(work->second)));
      }
    } catch (...) {
      out.error = std::current_exception();
    }
    if constexpr (!std::is_reference_v<R>) work.reset();
  }
};

} // namespace detail

template <class F, class... Args>
class offload_awaiter : detail::cancel_registration {
  using fn_t = std::decay_t<F>;
  using args_t = std::tuple<std::decay_t<Args>...>;

public:
  using result_type = std::invoke_result_t<fn_t&&, std::decay_t<Args>&&...>;

  offload_awaiter(fn_t f, args_t a) : job_(std::make_shared<job_t>(std::move(f), std::move(a))) {}
  offload_awaiter(offload_awaiter&& o) noexcept : job_(std::move(o.job_)) {}
  offload_awaiter& operator=(offload_awaiter&&) = delete;
  ~offload_awaiter() { detail::disarm_cancel(root_, this); }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    scheduler* s = scheduler::current();
    if (!s) throw runtime_error("corio: offload() must be awaited inside a corio runtime");
    root_ = detail::cancel_root(h, *this);
    detail::cancel_lock lock(root_);
    if (lock.pending()) { // a sticky cancellation: the job never starts
      cancelled_ = true;
      return false;
    }
    job_->waiter = h;
    job_->sched = s;
    on_cancel = &abandon;
    what = "offload";
    // From here on the job may finish and resume us at once; without a root (a caller that is
    // not a corio task) no lock holds us back, so nothing of this frame is touched afterwards.
    detail::submit_offload(*s, job_);
    lock.arm(this);
    return true;
  }
  result_type await_resume() {
    detail::task_header* root = std::exchange(root_, nullptr);
    detail::disarm_cancel(root, this);
    if (cancelled_) detail::deliver_cancel(root);
    auto& out = job_->out;
    if (out.error) std::rethrow_exception(out.error);
    if constexpr (std::is_void_v<result_type>)
      return;
    else if constexpr (std::is_reference_v<result_type>)
      return out.value->get();
    else
      return std::move(*out.value);
  }

private:
  static void abandon(detail::cancel_registration* r) noexcept {
    auto* a = static_cast<offload_awaiter*>(r);
    int expected = detail::offload_job_base::running;
    if (a->job_->state.compare_exchange_strong(expected, detail::offload_job_base::abandoned, std::memory_order_acq_rel)) {
      a->cancelled_ = true;
      a->job_->sched->schedule(a->job_->waiter);
    }
  }
  using job_t = detail::offload_job<fn_t, args_t, result_type>;
  std::shared_ptr<job_t> job_;
  detail::task_header* root_ = nullptr;
  bool cancelled_ = false;
};

template <class F, class... Args>
  requires std::is_invocable_v<std::decay_t<F>&&, std::decay_t<Args>&&...>
offload_awaiter<std::decay_t<F>, std::decay_t<Args>...> offload(F&& fn, Args&&... args) {
  return offload_awaiter<std::decay_t<F>, std::decay_t<Args>...>(
      std::forward<F>(fn), std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...));
}

} // namespace corio
