// Task names and ids, all_tasks() and its text forms (corio/task_info.hpp).
#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

const corio::task_snapshot* find(const std::vector<corio::task_snapshot>& ts, const std::string& name) {
  for (auto& t : ts)
    if (t.name == name) return &t;
  return nullptr;
}

} // namespace

TEST_CASE("task_info: a task knows its name and id; unnamed tasks have none", "[task_info]") {
  corio::scheduler s({.workers = 2});
  auto body = []() -> corio::task<bool> {
    auto who = []() -> corio::task<std::pair<std::string, std::uintptr_t>> {
      co_return std::pair{co_await corio::this_task::name(), co_await corio::this_task::id()};
    };
    auto named = corio::create_task(who(), "alpha");
    auto unnamed = corio::create_task(who());
    auto [name, id] = co_await named;
    auto [none, id2] = co_await unnamed;
    co_return name == "alpha" && none.empty() && id != 0 && id2 != 0 && id != id2;
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("task_info: all_tasks lists a known set with the right states", "[task_info]") {
  std::atomic<bool> spinning{false}, stop{false};
  corio::event never;
  // The coroutine lambdas live here, not in setup's frame: their tasks outlive setup, and a
  // lambda coroutine reads its captures through the closure object.
  auto sleeper_body = []() -> corio::task<void> { co_await corio::sleep(60s); };
  auto waiter_body = [&]() -> corio::task<void> { co_await never.wait(); };
  auto spinner_body = [&]() -> corio::task<void> {
    // Busy most of the time, with a short break every 20 ms so that its worker can answer.
    spinning = true;
    while (!stop.load()) {
      auto until = std::chrono::steady_clock::now() + 20ms;
      while (std::chrono::steady_clock::now() < until && !stop.load()) {
      }
      co_await corio::yield();
    }
  };
  auto quick_body = []() -> corio::task<void> { co_return; };
  auto setup = [&]() -> corio::task<std::vector<corio::join_handle<void>>> {
    std::vector<corio::join_handle<void>> hs;
    hs.push_back(corio::create_task(sleeper_body(), "sleeper"));
    hs.push_back(corio::create_task(waiter_body(), "waiter"));
    hs.push_back(corio::create_task(spinner_body(), "spinner"));
    hs.push_back(corio::create_task(quick_body(), "finished"));
    co_await corio::sleep(20ms);
    co_return hs;
  };
  // Declared after what its tasks use, so it shuts down first; the guard after it, so that
  // whatever happens below, the spinner ends before the runtime shuts down.
  corio::runtime rt({.workers = 2});
  struct stopper {
    std::atomic<bool>& stop;
    ~stopper() { stop = true; }
  } guard{stop};
  auto hs = rt.block_on(setup());
  while (!spinning.load()) std::this_thread::sleep_for(1ms);
  std::vector<corio::task_snapshot> ts;
  for (int i = 0; i < 50; ++i) { // running is a moment: the spinner is caught in a step soon
    ts = rt.all_tasks();
    auto* sp = find(ts, "spinner");
    if (sp && sp->state == corio::task_state::running) break;
  }
  INFO(corio::format_tasks(ts));
  auto* sleeper = find(ts, "sleeper");
  auto* waiter = find(ts, "waiter");
  auto* spinner = find(ts, "spinner");
  auto* finished = find(ts, "finished");
  REQUIRE(sleeper);
  REQUIRE(waiter);
  REQUIRE(spinner);
  REQUIRE(finished);
  CHECK(sleeper->state == corio::task_state::waiting);
  CHECK(sleeper->waiting_on == "sleep");
  CHECK(waiter->state == corio::task_state::waiting);
  CHECK(waiter->waiting_on.find("event") != std::string::npos);
  CHECK(spinner->state == corio::task_state::running);
  CHECK(finished->state == corio::task_state::done); // its handle is still held
  CHECK(sleeper->age.has_value());
  CHECK(*sleeper->age >= 20ms);
  CHECK(sleeper->parent != 0); // created inside a task
  std::string table = corio::format_tasks(ts);
  CHECK(table.find("sleeper") != std::string::npos);
  CHECK(table.find("waiting") != std::string::npos);
  CHECK(corio::describe(*sleeper).find("'sleeper'") != std::string::npos);

  stop = true;
  for (auto& h : hs) h.cancel();
  auto drain = [&]() -> corio::task<void> {
    for (auto& h : hs) co_await h.until_done();
  };
  rt.block_on(drain());
  hs.clear();
  auto after = rt.all_tasks();
  CHECK(find(after, "sleeper") == nullptr); // gone with their frames
}

TEST_CASE("task_info: inside a task, co_await all_tasks() includes the caller, waiting", "[task_info]") {
  corio::runtime rt({.workers = 1}); // one worker: it must stay free to answer
  auto body = []() -> corio::task<bool> {
    auto me = co_await corio::this_task::id();
    auto ts = co_await corio::all_tasks();
    for (auto& t : ts)
      if (t.id == me) co_return t.state == corio::task_state::waiting && t.waiting_on == "offload";
    co_return false;
  };
  REQUIRE(rt.block_on(body()));
}

TEST_CASE("task_info: the blocking form called on a worker is a runtime_error", "[task_info]") {
  corio::scheduler s({.workers = 1});
  auto body = [&]() -> corio::task<bool> {
    try {
      (void)s.all_tasks();
    } catch (const corio::runtime_error&) {
      co_return true;
    }
    co_return false;
  };
  REQUIRE(s.block_on(body()));
}

TEST_CASE("task_info: debug mode's slow-step report names the task", "[task_info][debug]") {
  std::mutex mu;
  std::vector<std::string> names;
  auto previous = corio::set_slow_step_handler([&](const corio::slow_step_info& info) {
    std::lock_guard lock(mu);
    names.emplace_back(info.task_name);
  });
  {
    corio::scheduler s({.workers = 2, .debug = true, .slow_step_threshold = 50ms});
    auto hog = []() -> corio::task<void> {
      auto until = std::chrono::steady_clock::now() + 150ms;
      while (std::chrono::steady_clock::now() < until) {
      }
      co_return;
    };
    auto body = [&]() -> corio::task<void> { co_await corio::create_task(hog(), "hog"); };
    s.block_on(body());
  }
  corio::set_slow_step_handler(std::move(previous));
  std::lock_guard lock(mu);
  REQUIRE(names.size() == 1);
  CHECK(names[0] == "hog");
}

TEST_CASE("task_info: a worker stuck in a long step still shows the task holding it", "[task_info]") {
  corio::runtime rt({.workers = 1});
  std::atomic<bool> stop{false}, started{false};
  auto hog = [&]() -> corio::task<void> {
    started = true;
    while (!stop.load()) {
    }
    co_return;
  };
  auto h = rt.spawn(hog(), "hog");
  struct stopper {
    std::atomic<bool>& stop;
    ~stopper() { stop = true; }
  } guard{stop};
  while (!started.load()) std::this_thread::sleep_for(1ms);
  auto ts = rt.all_tasks(); // the only worker never answers: ~1 s
  auto* hog_seen = find(ts, "hog");
  REQUIRE(hog_seen);
  CHECK(hog_seen->state == corio::task_state::running);
  stop = true;
  auto wait = [&]() -> corio::task<void> { co_await h; };
  rt.block_on(wait());
}

namespace {

corio::task<int> chain_inner(corio::event& e) {
  co_await e.wait();
  co_return 3;
}
corio::task<int> chain_middle(corio::event& e) { co_return 2 + co_await chain_inner(e); }
corio::task<int> chain_outer(corio::event& e) { co_return 1 + co_await chain_middle(e); }

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

} // namespace

TEST_CASE("task_info: the await chain of a waiting task, three deep, outermost first", "[task_info]") {
  corio::runtime rt({.workers = 2});
  corio::event e;
  auto h = rt.spawn(chain_outer(e), "chain");
  std::vector<corio::task_snapshot> ts;
  const corio::task_snapshot* t = nullptr;
  for (int i = 0; i < 200; ++i) { // until the task has reached its wait
    ts = rt.all_tasks();
    t = find(ts, "chain");
    if (t && t->state == corio::task_state::waiting) break;
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(t);
  REQUIRE(t->state == corio::task_state::waiting);
  CHECK(contains(t->waiting_on, "event"));
  REQUIRE(t->await_chain.size() == 3);
  CHECK(t->await_chain[0].frame == t->id); // the task's own coroutine comes first
  CHECK(contains(t->await_chain[0].function, "chain_outer"));
  CHECK(contains(t->await_chain[1].function, "chain_middle"));
  CHECK(contains(t->await_chain[2].function, "chain_inner"));
  CHECK(t->await_chain[1].frame != t->await_chain[2].frame);
  const std::string text = corio::format_await_chains(ts);
  CHECK(contains(text, "'chain'"));
  INFO(text);
  CHECK(contains(text, "-> (anonymous namespace)::chain_inner(corio::event&)"));

  // Once it moves on, the chain is gone with the wait; the task completes normally.
  e.set();
  auto wait = [&]() -> corio::task<int> { co_return co_await h; };
  CHECK(rt.block_on(wait()) == 6);
}

TEST_CASE("task_info: tasks that are not waiting have no await chain", "[task_info]") {
  corio::runtime rt({.workers = 1});
  auto body = []() -> corio::task<bool> {
    auto ts = co_await corio::all_tasks(); // the caller waits in offload: its chain is itself
    for (auto& t : ts)
      if (t.state != corio::task_state::waiting && !t.await_chain.empty()) co_return false;
    co_return true;
  };
  CHECK(rt.block_on(body()));
}
