#include <corio/trace.hpp>

#include <corio/detail/json_escape.hpp>
#include <corio/detail/trace_points.hpp>

#include "symbolize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace corio::detail {

std::atomic<bool> trace_on{false};

std::uint64_t trace_clock() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

namespace {

constexpr unsigned kind_shift = 56;
constexpr std::uint64_t time_mask = (std::uint64_t{1} << kind_shift) - 1;

// Atomic fields (relaxed: plain moves on x86) so that a dump taken while a thread records is
// not a data race; the dump skips the slots a writer may be overwriting.
struct event_slot {
  std::atomic<std::uint64_t> start{0};
  std::atomic<std::uint64_t> end_kind{0}; // kind << 56 | end
  std::atomic<std::uint64_t> a{0};
  std::atomic<std::uint64_t> b{0};
};

struct ring {
  ring(std::size_t capacity, int id) : slots(new event_slot[capacity]), mask(capacity - 1), tid(id) {}
  std::unique_ptr<event_slot[]> slots;
  std::size_t mask;
  int tid;
  std::atomic<std::uint64_t> head{0}; // written by the owner only
  std::atomic<std::uint64_t> base{0}; // head when this recording started
  std::atomic<bool> live{true};       // the owning thread has not exited
  std::string name;                   // under the registry's mutex
};

struct registry {
  std::mutex mu;
  std::vector<std::unique_ptr<ring>> rings;
  std::size_t capacity = std::size_t{1} << 18;
  std::uint64_t origin = 0;
  int next_tid = 1;
};
// Never destroyed: threads may record while the process exits.
registry& reg() {
  static registry* r = new registry;
  return *r;
}

// The calling thread's ring; marked dead (and freed at the next start()) when the thread exits.
struct ring_owner {
  ring* r = nullptr;
  std::string name;
  ~ring_owner() {
    if (r) r->live.store(false, std::memory_order_release);
  }
};
thread_local ring_owner me;

ring* attach() noexcept {
  auto& g = reg();
  std::lock_guard lock(g.mu);
  if (!trace_on.load(std::memory_order_relaxed)) return nullptr;
  try {
    auto r = std::make_unique<ring>(g.capacity, g.next_tid++);
    r->name = me.name.empty() ? fmt::format("thread {}", r->tid) : me.name;
    g.rings.push_back(std::move(r));
  } catch (...) {
    return nullptr; // out of memory: this thread goes unrecorded
  }
  me.r = g.rings.back().get();
  return me.r;
}

std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = 1024;
  while (p < n) p <<= 1;
  return p;
}

const char* kind_name(trace_kind k) {
  switch (k) {
  case trace_kind::step: return "step";
  case trace_kind::spawn: return "spawn";
  case trace_kind::complete: return "complete";
  case trace_kind::steal: return "steal";
  case trace_kind::park: return "parked";
  case trace_kind::io_handoff: return "io handoff";
  case trace_kind::offload: return "offload job";
  }
  return "?";
}

// Code address -> (slice name, full function name), for one dump.
using function_names = std::unordered_map<std::uint64_t, std::pair<std::string, std::string>>;

const std::pair<std::string, std::string>& names_of(function_names& cache, std::uint64_t code) {
  auto [it, fresh] = cache.try_emplace(code);
  if (fresh) {
    std::string full = code ? function_at(reinterpret_cast<const void*>(code)) : std::string();
    it->second = {full.empty() ? std::string("step") : short_function_name(full), std::move(full)};
  }
  return it->second;
}

void append_event(std::string& out, int tid, std::uint64_t origin, std::uint64_t start, std::uint64_t end, trace_kind k,
                  std::uint64_t a, std::uint64_t b, function_names& names) {
  const double ts = static_cast<double>(start - origin) / 1000.0;
  switch (k) {
  case trace_kind::step:
  case trace_kind::park:
  case trace_kind::offload: {
    const double dur = end > start ? static_cast<double>(end - start) / 1000.0 : 0.0;
    const char* cat = k == trace_kind::step ? "task" : k == trace_kind::park ? "worker" : "offload";
    // A step is named after the coroutine it resumed ("handle_client"), when the symbol tables say.
    const auto* fn = k == trace_kind::step ? &names_of(names, b) : nullptr;
    fmt::format_to(std::back_inserter(out), R"({{"name":"{}","cat":"{}","ph":"X","pid":1,"tid":{},"ts":{:.3f},"dur":{:.3f})",
                   fn ? json_escape(fn->first) : std::string(kind_name(k)), cat, tid, ts, dur);
    if (fn)
      fmt::format_to(std::back_inserter(out), R"(,"args":{{"coroutine":"{:#x}","function":"{}"}})", a, json_escape(fn->second));
    break;
  }
  case trace_kind::spawn:
    fmt::format_to(std::back_inserter(out),
                   R"({{"name":"spawn","cat":"task","ph":"i","s":"t","pid":1,"tid":{},"ts":{:.3f},"args":{{"task":"{:#x}","parent":"{:#x}"}})",
                   tid, ts, a, b);
    break;
  case trace_kind::complete:
    fmt::format_to(std::back_inserter(out),
                   R"({{"name":"complete","cat":"task","ph":"i","s":"t","pid":1,"tid":{},"ts":{:.3f},"args":{{"task":"{:#x}"}})", tid,
                   ts, a);
    break;
  case trace_kind::steal:
    fmt::format_to(std::back_inserter(out),
                   R"({{"name":"steal","cat":"worker","ph":"i","s":"t","pid":1,"tid":{},"ts":{:.3f},"args":{{"victim":{},"tasks":{}}})",
                   tid, ts, a, b);
    break;
  case trace_kind::io_handoff:
    fmt::format_to(std::back_inserter(out),
                   R"({{"name":"io handoff","cat":"io","ph":"i","s":"t","pid":1,"tid":{},"ts":{:.3f},"args":{{"coroutines":{}}})",
                   tid, ts, a);
    break;
  }
  out += "},\n";
}

} // namespace

void trace_event(trace_kind k, std::uint64_t start, std::uint64_t end, std::uint64_t a, std::uint64_t b) noexcept {
  ring* r = me.r;
  if (!r && !(r = attach())) return;
  const std::uint64_t h = r->head.load(std::memory_order_relaxed);
  event_slot& s = r->slots[h & r->mask];
  s.start.store(start, std::memory_order_relaxed);
  s.end_kind.store((end & time_mask) | (static_cast<std::uint64_t>(k) << kind_shift), std::memory_order_relaxed);
  s.a.store(a, std::memory_order_relaxed);
  s.b.store(b, std::memory_order_relaxed);
  r->head.store(h + 1, std::memory_order_release);
}

} // namespace corio::detail

namespace corio::trace {

void start(std::size_t events_per_thread) {
  auto& g = detail::reg();
  std::lock_guard lock(g.mu);
  // Threads that are gone recorded into an earlier recording only; live ones start over.
  std::erase_if(g.rings, [](const auto& r) { return !r->live.load(std::memory_order_acquire); });
  for (auto& r : g.rings) r->base.store(r->head.load(std::memory_order_acquire), std::memory_order_relaxed);
  // Live threads keep their ring's size for now; new threads get the new one.
  g.capacity = detail::round_up_pow2(std::max<std::size_t>(events_per_thread, 1024));
  g.origin = detail::trace_clock();
  detail::trace_on.store(true, std::memory_order_release);
}

void stop() noexcept { detail::trace_on.store(false, std::memory_order_release); }

bool enabled() noexcept { return detail::trace_enabled(); }

void name_this_thread(std::string name) {
  auto& g = detail::reg();
  std::lock_guard lock(g.mu);
  if (detail::me.r) detail::me.r->name = name;
  detail::me.name = std::move(name);
}

std::string chrome_json() {
  auto& g = detail::reg();
  std::lock_guard lock(g.mu);
  const bool recording = detail::trace_on.load(std::memory_order_acquire);
  std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  detail::function_names names;
  out += R"({"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"corio"}},)";
  out += '\n';
  for (auto& r : g.rings) {
    fmt::format_to(std::back_inserter(out), R"({{"name":"thread_name","ph":"M","pid":1,"tid":{},"args":{{"name":{}}}}},)",
                   r->tid, '"' + detail::json_escape(r->name) + '"');
    out += '\n';
    fmt::format_to(std::back_inserter(out), R"({{"name":"thread_sort_index","ph":"M","pid":1,"tid":{},"args":{{"sort_index":{}}}}},)",
                   r->tid, r->tid);
    out += '\n';
    const std::uint64_t head = r->head.load(std::memory_order_acquire);
    const std::uint64_t cap = r->mask + 1;
    // While recording, the oldest slots may be being overwritten: leave a margin.
    const std::uint64_t keep = recording ? (cap > 64 ? cap - 64 : 0) : cap;
    std::uint64_t from = std::max(r->base.load(std::memory_order_relaxed), head > keep ? head - keep : 0);
    for (std::uint64_t i = from; i < head; ++i) {
      const auto& s = r->slots[i & r->mask];
      const std::uint64_t start = s.start.load(std::memory_order_relaxed);
      const std::uint64_t ek = s.end_kind.load(std::memory_order_relaxed);
      const auto k = static_cast<detail::trace_kind>(ek >> detail::kind_shift);
      if (ek >> detail::kind_shift < 1 || ek >> detail::kind_shift > 7 || start < g.origin) continue;
      detail::append_event(out, r->tid, g.origin, start, ek & detail::time_mask, k, s.a.load(std::memory_order_relaxed),
                           s.b.load(std::memory_order_relaxed), names);
    }
  }
  if (out.size() >= 2 && out[out.size() - 2] == ',') out.erase(out.size() - 2, 1); // no trailing comma
  out += "]}\n";
  return out;
}

void write_chrome_json(const std::string& path) {
  std::string json = chrome_json();
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::system_error(errno, std::generic_category(), "corio: cannot write the trace to " + path);
  bool ok = std::fwrite(json.data(), 1, json.size(), f) == json.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) throw std::system_error(errno, std::generic_category(), "corio: cannot write the trace to " + path);
}

} // namespace corio::trace
