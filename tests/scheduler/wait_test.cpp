// corio::wait and corio::as_completed (asyncio.wait / asyncio.as_completed).
#include <corio/corio.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace {
corio::task<int> after_yields(int n, int v, const char* fail = nullptr) {
  for (int i = 0; i < n; ++i) co_await corio::yield();
  if (fail) throw std::runtime_error(fail);
  co_return v;
}
} // namespace

TEST_CASE("wait: first_completed returns as soon as one has finished; nothing is consumed", "[wait]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<std::string> {
    std::vector<corio::join_handle<int>> hs;
    hs.push_back(corio::create_task(after_yields(200, 0)));
    hs.push_back(corio::create_task(after_yields(2, 1)));
    hs.push_back(corio::create_task(after_yields(300, 2)));
    auto [done, pending] = co_await corio::wait(hs, corio::return_when::first_completed);
    std::string r = std::to_string(done.size()) + "/" + std::to_string(pending.size());
    r += " first=" + std::to_string(co_await hs[done[0]]);
    auto all = co_await corio::wait(hs);
    r += " then " + std::to_string(all.done.size()) + "/" + std::to_string(all.pending.size());
    co_return r + " " + std::to_string(co_await hs[0]) + std::to_string(co_await hs[2]);
  };
  REQUIRE(s.block_on(body()) == "1/2 first=1 then 3/0 02");
}

TEST_CASE("wait: first_exception stops at a failure, not at a success", "[wait]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<std::string> {
    std::vector<corio::join_handle<int>> hs;
    hs.push_back(corio::create_task(after_yields(1, 0)));
    hs.push_back(corio::create_task(after_yields(5, 0, "bad")));
    hs.push_back(corio::create_task(after_yields(500, 0)));
    auto r = co_await corio::wait(hs, corio::return_when::first_exception);
    std::string out = std::to_string(r.done.size()) + "/" + std::to_string(r.pending.size());
    try {
      co_await hs[1];
    } catch (const std::runtime_error& e) {
      out += std::string(" ") + e.what();
    }
    hs[2].cancel();
    co_return out;
  };
  REQUIRE(s.block_on(body()) == "2/1 bad");
}

TEST_CASE("as_completed: results in the order the tasks finish", "[wait]") {
  corio::scheduler s({.workers = 1});
  auto body = []() -> corio::task<std::string> {
    std::vector<corio::join_handle<int>> hs;
    hs.push_back(corio::create_task(after_yields(60, 3)));
    hs.push_back(corio::create_task(after_yields(20, 1, "one failed")));
    hs.push_back(corio::create_task(after_yields(40, 2)));
    hs.push_back(corio::create_task(after_yields(0, 0)));
    corio::as_completed<int> ac(std::move(hs));
    std::string out;
    while (!ac.empty()) {
      try {
        out += std::to_string(co_await ac.next());
      } catch (const std::runtime_error&) {
        out += "x";
      }
      out += "@" + std::to_string(ac.last_index()) + " ";
    }
    co_return out;
  };
  REQUIRE(s.block_on(body()) == "0@3 x@1 2@2 3@0 ");
}
