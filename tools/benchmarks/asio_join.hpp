#pragma once
// The plain-Asio baseline's spawn + join: co_spawn a coroutine onto the pool and await its
// result later through a one-slot concurrent_channel (Asio 1.22 has no joinable spawn); and
// running a whole baseline on a pool, timed.
#include "baselines.hpp"
#include "bench_common.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <utility>

namespace bench {

template <class T>
class asio_join {
  using channel = asio::experimental::concurrent_channel<void(asio::error_code, T)>;

public:
  template <class Executor>
  asio_join(Executor ex, asio::awaitable<T> aw) : ch_(std::make_shared<channel>(ex, 1)) {
    asio::co_spawn(ex, std::move(aw), [ch = ch_](std::exception_ptr, T v) { ch->try_send(asio::error_code{}, v); });
  }
  asio::awaitable<T> join() { return ch_->async_receive(asio::use_awaitable); }

private:
  std::shared_ptr<channel> ch_;
};

// Runs body on a pool of `threads` threads: its result, and the seconds from its start to the
// pool's end (the pool's own start left out, as for the other implementations).
inline timed_result run_on_pool(long threads, asio::awaitable<long> body) {
  timed_result r;
  asio::thread_pool pool(static_cast<std::size_t>(threads));
  stopwatch sw;
  asio::co_spawn(pool, std::move(body), [&](std::exception_ptr, long v) { r.result = v; });
  pool.join();
  r.seconds = sw.seconds();
  return r;
}

} // namespace bench
