// The seed's snippets and their C++ twins must print the same lines at the same moments (lines
// printed at the same moment may come in another order: the runtime is multi-threaded). Each
// line's arrival time is checked against a window that starts at its moment (never early) and
// is generous on the late side.
#include <support/process.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using corio_test::child_process;

namespace {

std::string bin(const char* name) { return std::string(CORIO_EXAMPLES_DIR) + "/" + name; }

// Reads `expected.size()` lines, all due at `moment` seconds; checks them as a set.
void expect_moment(child_process& p, double moment, std::multiset<std::string> expected) {
  const double late = corio_test::sanitized() ? 0.9 : 0.5;
  std::multiset<std::string> got;
  std::size_t n = expected.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto l = p.read_line();
    REQUIRE(l);
    INFO("line \"" << l->text << "\" at " << l->at << " s, expected at " << moment << " s");
    CHECK(l->at >= moment - 0.05); // process start is measured a little before main() runs
    CHECK(l->at < moment + late);
    got.insert(l->text);
  }
  REQUIRE(got == expected);
}

} // namespace

TEST_CASE("examples: greet prints the greetings, pauses a second, then the farewells", "[examples][seed]") {
  child_process p({bin("greet")});
  expect_moment(p, 0, {"Hello, Alice!", "Hello, Bob!", "Hello, Charlie!"});
  expect_moment(p, 1, {"Goodbye, Alice!", "Goodbye, Bob!", "Goodbye, Charlie!"});
  REQUIRE_FALSE(p.read_line(std::chrono::milliseconds(300)));
  REQUIRE(p.wait() == 0);
}

TEST_CASE("examples: fetch_data fetches concurrently and prints results in URL order", "[examples][seed]") {
  child_process p({bin("fetch_data")});
  const std::string u = "https://api.example.com/";
  expect_moment(p, 0, {"Fetching data from " + u + "users", "Fetching data from " + u + "products",
                       "Fetching data from " + u + "orders"});
  expect_moment(p, 2, {"Data fetched from " + u + "users", "Data fetched from " + u + "products",
                       "Data fetched from " + u + "orders"});
  // gather keeps the order of its arguments.
  for (const char* what : {"users", "products", "orders"}) {
    auto l = p.read_line();
    REQUIRE(l);
    REQUIRE(l->text == "Data from " + u + what);
  }
  REQUIRE(p.wait() == 0);
}

TEST_CASE("examples: countdown ticks both counters once a second on a hand-driven runtime", "[examples][seed]") {
  child_process p({bin("countdown")});
  expect_moment(p, 0, {"Countdown 1: 5", "Countdown 2: 3"});
  expect_moment(p, 1, {"Countdown 1: 4", "Countdown 2: 2"});
  expect_moment(p, 2, {"Countdown 1: 3", "Countdown 2: 1"});
  expect_moment(p, 3, {"Countdown 1: 2"});
  expect_moment(p, 4, {"Countdown 1: 1"});
  REQUIRE_FALSE(p.read_line(std::chrono::milliseconds(300)));
  REQUIRE(p.wait() == 0);
  REQUIRE(p.seconds_since_start() >= 5.0); // the last sleep still runs before main returns
}

TEST_CASE("examples: async_db connects, queries twice, prints, closes, at the seed's moments", "[examples][seed]") {
  child_process p({bin("async_db")});
  expect_moment(p, 0, {"Connecting to the database..."});
  expect_moment(p, 1, {"Connected!"});
  expect_moment(p, 1, {"Executing query: SELECT * FROM users"});
  expect_moment(p, 1.5, {"Executing query: SELECT * FROM products"});
  expect_moment(p, 2, {"Result of SELECT * FROM users"});
  expect_moment(p, 2, {"Result of SELECT * FROM products"});
  expect_moment(p, 2, {"Closing database connection..."});
  expect_moment(p, 2.5, {"Connection closed!"});
  REQUIRE_FALSE(p.read_line(std::chrono::milliseconds(300)));
  REQUIRE(p.wait() == 0);
}

TEST_CASE("examples: db_pool shares 5 connections among 100 tasks without lost updates", "[examples]") {
  child_process p({bin("db_pool"), "--workers", "4"});
  auto summary = p.read_line(std::chrono::seconds(60));
  REQUIRE(summary);
  auto peak = p.read_line();
  REQUIRE(peak);
  REQUIRE(peak->text == "connections in use at once: at most 5");
  auto counter = p.read_line();
  REQUIRE(counter);
  REQUIRE(counter->text == "counter = 2000 (expected 2000): no lost updates");
  REQUIRE(p.wait() == 0);
}
