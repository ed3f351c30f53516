// Debug mode's reports (corio/debug.hpp): each fires in its case and not otherwise.
#include <corio/corio.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Collects debug reports while alive (and keeps slow-step reports off stderr).
struct captured_reports {
  std::mutex mu;
  std::vector<corio::debug_report> reports;
  corio::debug_handler previous;
  corio::slow_step_handler previous_slow;

  captured_reports() {
    previous = corio::set_debug_handler([this](const corio::debug_report& r) {
      std::lock_guard lock(mu);
      reports.push_back(r);
    });
    previous_slow = corio::set_slow_step_handler([](const corio::slow_step_info&) {});
  }
  ~captured_reports() {
    corio::set_debug_handler(std::move(previous));
    corio::set_slow_step_handler(std::move(previous_slow));
  }
  std::vector<corio::debug_report> of(corio::debug_event e) {
    std::lock_guard lock(mu);
    std::vector<corio::debug_report> out;
    for (auto& r : reports)
      if (r.event == e) out.push_back(r);
    return out;
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return reports.size();
  }
};

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

corio::task<int> forgotten_work() { co_return 7; }

corio::task<void> wait_forever_inner(corio::event& e) { co_await e.wait(); }
corio::task<void> wait_forever(corio::event& e) {
  auto never_started = forgotten_work(); // destroyed with the frame: not a forgotten co_await
  co_await wait_forever_inner(e);
  co_await std::move(never_started);
}

corio::task<int> quick() { co_return 1; }

corio::task<void> park_on(corio::event& e) { co_await e.wait(); }

} // namespace

TEST_CASE("debug: a task destroyed before it ran is reported as never awaited", "[debug]") {
  captured_reports cap;
  corio::scheduler s({.workers = 1, .debug = true});
  {
    auto t = forgotten_work(); // created, never awaited
  }
  auto reports = cap.of(corio::debug_event::never_awaited);
  REQUIRE(reports.size() == 1);
  CHECK(contains(reports[0].function, "forgotten_work"));
  CHECK(contains(reports[0].message, "never awaited"));

  // Awaited, spawned, or moved-from tasks are not reported.
  auto body = []() -> corio::task<int> {
    int v = co_await forgotten_work();
    auto moved = forgotten_work();
    auto again = std::move(moved);
    v += co_await again;
    co_return v + co_await corio::create_task(forgotten_work());
  };
  CHECK(s.block_on(body()) == 21);
  CHECK(cap.of(corio::debug_event::never_awaited).size() == 1);
}

TEST_CASE("debug: without debug mode nothing is reported", "[debug]") {
  if (corio::debug_requested_by_environment()) return; // CORIO_DEBUG turns it on for the process
  captured_reports cap;
  corio::scheduler s({.workers = 1});
  {
    auto t = forgotten_work();
  }
  auto body = []() -> corio::task<void> {
    corio::create_task(quick()).cancel(); // a handle dropped after cancel() is deliberate anyway
    (void)corio::create_task(quick());
    co_return;
  };
  s.block_on(body());
  CHECK(cap.count() == 0);
}

TEST_CASE("debug: a join_handle dropped without co_await, cancel() or detach() is reported", "[debug]") {
  captured_reports cap;
  corio::scheduler s({.workers = 1, .debug = true});
  corio::event e;
  auto body = [&]() -> corio::task<void> {
    {
      auto dropped = corio::create_task(park_on(e), "dropped one");
      co_await corio::yield(); // it reaches its wait, then the handle goes
    }
    corio::create_task(quick()).detach();           // said so
    auto awaited = corio::create_task(quick());
    co_await awaited;                               // awaited
    auto cancelled = corio::create_task(park_on(e));
    cancelled.cancel();                             // cancelled
    auto moved = corio::create_task(quick());
    auto into = std::move(moved);                   // the moved-from handle is empty
    co_await into;
    e.set();
  };
  s.block_on(body());
  auto reports = cap.of(corio::debug_event::handle_dropped);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].name == "dropped one");
  CHECK(contains(reports[0].function, "park_on"));
  CHECK(reports[0].task != 0);
  CHECK(contains(reports[0].message, "detach()"));
}

TEST_CASE("debug: shutdown reports each pending task it destroys, with where it was suspended", "[debug]") {
  captured_reports cap;
  corio::event e; // never set
  {
    corio::runtime rt({.workers = 2, .debug = true});
    auto h = rt.spawn(wait_forever(e), "stuck");
    for (int i = 0; i < 200; ++i) { // until it waits
      auto ts = rt.all_tasks();
      if (!ts.empty() && ts[0].state == corio::task_state::waiting) break;
      std::this_thread::sleep_for(5ms);
    }
    auto finished = rt.spawn(quick(), "finished");
    auto wait = [&]() -> corio::task<int> { co_return co_await finished; };
    CHECK(rt.block_on(wait()) == 1);
    h.detach();
    rt.shutdown();
  }
  auto reports = cap.of(corio::debug_event::pending_task_destroyed);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].name == "stuck");
  CHECK(contains(reports[0].message, "destroyed but it is pending"));
  CHECK(contains(reports[0].message, "event"));
  REQUIRE(reports[0].await_chain.size() == 2);
  CHECK(contains(reports[0].await_chain[0].function, "wait_forever"));
  CHECK(contains(reports[0].await_chain[1].function, "wait_forever_inner"));
  // The unstarted task its frame owned went with it: not a forgotten co_await.
  CHECK(cap.of(corio::debug_event::never_awaited).empty());
}

TEST_CASE("debug: every task remembers its creator and age in debug mode", "[debug]") {
  corio::scheduler s({.workers = 1, .debug = true});
  corio::event e;
  auto body = [&]() -> corio::task<bool> {
    auto child = corio::create_task(park_on(e)); // unnamed
    co_await corio::yield();
    auto ts = co_await corio::all_tasks();
    const std::uintptr_t me = co_await corio::this_task::id();
    bool ok = false;
    for (auto& t : ts)
      if (t.state == corio::task_state::waiting && t.waiting_on.find("event") != std::string::npos)
        ok = t.parent == me && t.age.has_value();
    e.set();
    co_await child;
    co_return ok;
  };
  CHECK(s.block_on(body()));
}

TEST_CASE("debug: a worker blocked on a std::mutex its own suspended coroutine holds is diagnosed", "[debug]") {
  if (corio_test::thread_sanitized()) {
    WARN("skipped under TSan: re-locking a held mutex is the very misuse TSan aborts on");
    return;
  }
  captured_reports cap;
  corio::scheduler s({.workers = 1, .debug = true, .slow_step_threshold = 50ms});
  std::timed_mutex m;
  bool got_it = true, held = false;
  auto holder = [&]() -> corio::task<void> {
    std::unique_lock guard(m);
    held = true;
    co_await corio::yield(); // the mistake: suspending with a std::mutex held
  };
  auto blocked = [&]() -> corio::task<void> {
    while (!held) co_await corio::yield();
    // Runs on the same (only) worker while the holder is suspended: it waits for a lock that
    // only this thread could release. A timeout ends the test instead of a deadlock.
    got_it = m.try_lock_for(400ms);
    if (got_it) m.unlock();
    co_return;
  };
  auto body = [&]() -> corio::task<void> {
    auto a = corio::create_task(holder());
    auto b = corio::create_task(blocked());
    co_await a;
    co_await b;
  };
  s.block_on(body());
  CHECK_FALSE(got_it);
  auto reports = cap.of(corio::debug_event::lock_across_await);
  REQUIRE(reports.size() == 1);
  CHECK(contains(reports[0].message, "this same worker thread"));
  CHECK(contains(reports[0].message, "corio::mutex"));
}

TEST_CASE("debug: a slow step that holds no lock is not a lock report", "[debug]") {
  captured_reports cap;
  corio::scheduler s({.workers = 1, .debug = true, .slow_step_threshold = 20ms});
  auto body = []() -> corio::task<void> {
    std::this_thread::sleep_for(120ms); // blocking, but not on a mutex
    co_return;
  };
  s.block_on(body());
  CHECK(cap.of(corio::debug_event::lock_across_await).empty());
}

TEST_CASE("debug: SIGQUIT prints the tasks and their await chains", "[debug]") {
  corio::runtime rt({.workers = 1, .debug = true});
  struct sigaction now {};
  ::sigaction(SIGQUIT, nullptr, &now);
  if (now.sa_handler == SIG_DFL || now.sa_handler == SIG_IGN) {
    WARN("SIGQUIT was ignored when the first debug runtime started: the dump is not installed");
    return;
  }
  corio::event e;
  auto h = rt.spawn(wait_forever(e), "dumped");
  // Send stderr to a file while the watchdog prints.
  char path[] = "/tmp/corio_sigquit_XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  int saved = ::dup(2);
  ::dup2(fd, 2);
  std::string text;
  for (int i = 0; i < 100 && !contains(text, "wait_forever_inner"); ++i) {
    if (i % 20 == 0) ::raise(SIGQUIT); // again if the task had not reached its wait yet
    std::this_thread::sleep_for(50ms);
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  ::unlink(path);
  CHECK(contains(text, "SIGQUIT"));
  CHECK(contains(text, "'dumped'"));
  CHECK(contains(text, "wait_forever(corio::event&)"));
  CHECK(contains(text, "-> (anonymous namespace)::wait_forever_inner(corio::event&)"));
  e.set();
  auto wait = [&]() -> corio::task<void> { co_await h; };
  rt.block_on(wait());
}
