#pragma once
// The plain-Asio baseline's spawn + join: co_spawn a coroutine onto the pool and await its
// result later through a one-slot concurrent_channel (Asio 1.22 has no joinable spawn).
#include <asio/co_spawn.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <memory>

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

} // namespace bench
