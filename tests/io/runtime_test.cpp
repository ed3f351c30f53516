#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

namespace {
corio::task<int> value(int v) { co_return v; }
} // namespace

TEST_CASE("runtime: block_on, spawn and shutdown", "[runtime]") {
  corio::runtime rt({.workers = 2});
  REQUIRE(rt.block_on(value(7)) == 7);
  auto h = rt.spawn(value(8));
  auto join = [](corio::join_handle<int>& h) -> corio::task<int> { co_return co_await h; };
  REQUIRE(rt.block_on(join(h)) == 8);
  REQUIRE(rt.get_scheduler().worker_count() == 2);
  rt.shutdown();
  REQUIRE_THROWS_AS(rt.block_on(value(1)), corio::runtime_error);
}

TEST_CASE("runtime: default worker count is the hardware concurrency", "[runtime]") {
  corio::runtime rt;
  REQUIRE(rt.get_scheduler().worker_count() == std::max(1u, std::thread::hardware_concurrency()));
}
