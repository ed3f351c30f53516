#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct log_t {
  std::vector<std::string> lines;
};

struct resource {
  log_t* log;
  corio::task<void> close() {
    co_await corio::yield(); // a real asynchronous teardown
    log->lines.push_back("closed");
  }
};

corio::task<resource> open(log_t& log) {
  co_await corio::yield();
  log.lines.push_back("opened");
  co_return resource{&log};
}

struct swallowing {
  log_t* log;
  corio::task<bool> aexit(std::exception_ptr e) {
    log->lines.push_back(e ? "aexit with error" : "aexit");
    co_return true; // swallow
  }
};

corio::task<swallowing> open_swallowing(log_t& log) { co_return swallowing{&log}; }

} // namespace

TEST_CASE("with: runs the teardown after a normal return and passes the value through", "[with]") {
  corio::scheduler s({.workers = 2});
  log_t log;
  auto body = [](log_t& log) -> corio::task<int> {
    co_return co_await corio::with(open(log), [&log](resource&) -> corio::task<int> {
      log.lines.push_back("body");
      co_return 42;
    });
  };
  REQUIRE(s.block_on(body(log)) == 42);
  REQUIRE(log.lines == std::vector<std::string>{"opened", "body", "closed"});
}

TEST_CASE("with: runs the teardown when the body throws, then rethrows", "[with]") {
  corio::scheduler s({.workers = 2});
  log_t log;
  auto body = [](log_t& log) -> corio::task<void> {
    co_await corio::with(open(log), [](resource&) -> corio::task<void> {
      throw std::runtime_error("body failed");
      co_return;
    });
  };
  REQUIRE_THROWS_WITH(s.block_on(body(log)), "body failed");
  REQUIRE(log.lines == std::vector<std::string>{"opened", "closed"});
}

TEST_CASE("with: aexit sees the exception and may swallow it", "[with]") {
  corio::scheduler s({.workers = 1});
  log_t log;
  auto body = [](log_t& log) -> corio::task<bool> {
    co_await corio::with(open_swallowing(log), [](swallowing&) -> corio::task<void> {
      throw std::runtime_error("swallowed");
      co_return;
    });
    co_return true;
  };
  REQUIRE(s.block_on(body(log)));
  REQUIRE(log.lines == std::vector<std::string>{"aexit with error"});
}
