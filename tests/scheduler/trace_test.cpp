// corio::trace: the recording and its Chrome trace-event JSON.
#include <corio/corio.hpp>
#include <support/json.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using corio_test::json;

namespace {

void spin_for(std::chrono::microseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

corio::task<int> busy(int i) {
  spin_for(200us);
  co_return i;
}

double crunch(int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += std::sqrt(static_cast<double>(i));
  return s;
}

// Spawns, sleeps, offloads and spreads work over both workers until one has stolen.
corio::task<bool> script(corio::runtime& rt) {
  co_await corio::sleep(5ms); // both workers park meanwhile
  double sum = co_await corio::offload(crunch, 100000);
  for (int round = 0; round < 50; ++round) {
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < 64; ++i) hs.push_back(corio::create_task(busy(i)));
    for (auto& h : hs) co_await h;
    std::uint64_t stolen = 0;
    for (auto& w : rt.metrics().workers) stolen += w.stolen;
    if (stolen > 0) co_return sum > 0;
  }
  co_return false;
}

std::multiset<std::string> names_on(const json& trace, std::map<double, std::string>& threads) {
  std::multiset<std::string> names;
  for (auto& e : trace["traceEvents"].arr()) {
    if (e["ph"].str() == "M") {
      if (e["name"].str() == "thread_name") threads[e["tid"].num()] = e["args"]["name"].str();
      continue;
    }
    names.insert(e["name"].str());
  }
  return names;
}

} // namespace

TEST_CASE("trace: a scripted run records every kind of event, as valid Chrome trace JSON", "[trace]") {
  corio::trace::start();
  {
    corio::runtime rt({.workers = 2});
    REQUIRE(rt.block_on(script(rt)));
  }
  corio::trace::stop();
  json trace = json::parse(corio::trace::chrome_json());

  std::map<double, std::string> threads;
  auto names = names_on(trace, threads);
  for (const char* kind : {"spawn", "complete", "steal", "parked", "io handoff", "offload job"}) {
    INFO(kind);
    CHECK(names.count(kind) > 0);
  }
  // Steps are slices of category "task", named after the coroutine they resumed.
  bool script_step = false;
  for (auto& e : trace["traceEvents"].arr())
    if (e["ph"].str() == "X" && e["cat"].str() == "task") {
      REQUIRE(e["args"].has("function"));
      REQUIRE(e["args"].has("coroutine"));
      script_step = script_step || (e["name"].str() == "script" && e["args"]["function"].str().find("script(corio::runtime&)") != std::string::npos);
    }
  CHECK(script_step);
  std::set<std::string> thread_names;
  for (auto& [tid, name] : threads) thread_names.insert(name);
  CHECK(thread_names.count("worker 0") == 1);
  CHECK(thread_names.count("worker 1") == 1);
  CHECK(thread_names.count("io 0") == 1);
  CHECK(thread_names.count("offload") == 1);

  // Every event has what the viewers need; slices have a non-negative duration; the tasks seen
  // completing were seen being spawned (events are grouped by thread, not sorted by time).
  std::set<std::string> spawned;
  for (auto& e : trace["traceEvents"].arr())
    if (e["name"].str() == "spawn") spawned.insert(e["args"]["task"].str());
  std::size_t completed_known = 0;
  for (auto& e : trace["traceEvents"].arr()) {
    REQUIRE(e.has("ph"));
    REQUIRE(e.has("pid"));
    REQUIRE(e.has("tid"));
    if (e["ph"].str() == "M") continue;
    REQUIRE(e["ts"].is_number());
    CHECK(e["ts"].num() >= 0);
    if (e["ph"].str() == "X") CHECK(e["dur"].num() >= 0);
    if (e["name"].str() == "complete" && spawned.count(e["args"]["task"].str())) ++completed_known;
  }
  CHECK(spawned.size() >= 64);
  CHECK(completed_known >= 64);
}

TEST_CASE("trace: each thread keeps only its newest events; nothing is recorded when stopped", "[trace]") {
  corio::trace::start(1024);
  corio::runtime rt({.workers = 1});
  auto many = []() -> corio::task<void> {
    for (int i = 0; i < 5000; ++i) co_await corio::create_task([]() -> corio::task<void> { co_return; }());
  };
  rt.block_on(many());
  corio::trace::stop();
  // A step that was running when tracing stopped may still record its end: let it.
  std::this_thread::sleep_for(50ms);
  std::string first = corio::trace::chrome_json();
  json trace = json::parse(first);
  std::map<double, std::size_t> per_thread;
  for (auto& e : trace["traceEvents"].arr())
    if (e["ph"].str() != "M") ++per_thread[e["tid"].num()];
  REQUIRE(!per_thread.empty());
  for (auto& [tid, n] : per_thread) CHECK(n <= 1024);

  rt.block_on(many()); // stopped: the recording does not change
  CHECK(corio::trace::chrome_json() == first);
}

TEST_CASE("trace: writing to a path that cannot be created is a std::system_error", "[trace]") {
  CHECK_THROWS_AS(corio::trace::write_chrome_json("/nonexistent-dir/trace.json"), std::system_error);
}
