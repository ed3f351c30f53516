// The metrics endpoint tools/top reads (runtime_options::metrics_address).
#include <corio/corio.hpp>
#include <support/json.hpp>
#include <support/process.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

using corio_test::json;
using corio_test::tcp_client;

TEST_CASE("metrics endpoint: answers metrics and tasks as JSON lines, errors for anything else", "[metrics][endpoint]") {
  corio::runtime rt({.workers = 2, .metrics_address = "127.0.0.1:0"});
  REQUIRE(rt.metrics_port() != 0);
  auto work = []() -> corio::task<void> {
    auto nap = []() -> corio::task<void> { co_await corio::sleep(std::chrono::milliseconds(1)); };
    for (int i = 0; i < 10; ++i) co_await corio::create_task(nap(), "napper");
  };
  rt.block_on(work());

  tcp_client c(rt.metrics_port());
  REQUIRE(c.send_all("metrics\n"));
  auto line = c.read_line();
  REQUIRE(line);
  json m = json::parse(*line);
  REQUIRE(m["workers"].arr().size() == 2);
  CHECK(m["tasks_spawned"].num() >= 11);
  CHECK(m["io_completions"].num() >= 10);
  CHECK(m["workers"].arr()[0]["poll_time"]["counts"].arr().size() == corio::duration_histogram::size);

  REQUIRE(c.send_all("tasks\r\n")); // the same connection may ask again
  line = c.read_line();
  REQUIRE(line);
  json ts = json::parse(*line);
  REQUIRE(ts.is_array());
  bool self_listed = false; // the endpoint's own connection handler is a live task
  bool chain_named = false; // a waiting task's await chain names its functions
  for (auto& t : ts.arr()) {
    self_listed = self_listed || t["state"].str() == "waiting" || t["state"].str() == "running";
    REQUIRE(t["await_chain"].is_array());
    REQUIRE(t.has("function"));
    if (t["state"].str() == "waiting" && !t["await_chain"].arr().empty())
      chain_named = chain_named || !t["await_chain"].arr()[0].str().empty();
  }
  CHECK(self_listed);
  CHECK(chain_named);

  REQUIRE(c.send_all("bogus\n"));
  line = c.read_line();
  REQUIRE(line);
  CHECK(json::parse(*line).has("error"));
}

TEST_CASE("metrics endpoint: a malformed address is an invalid_argument; off by default", "[metrics][endpoint]") {
  CHECK_THROWS_AS(corio::runtime({.workers = 1, .metrics_address = "no-port"}), std::invalid_argument);
  CHECK_THROWS_AS(corio::runtime({.workers = 1, .metrics_address = "127.0.0.1:99999"}), std::invalid_argument);
  corio::runtime rt({.workers = 1});
  CHECK(rt.metrics_port() == 0);
}
