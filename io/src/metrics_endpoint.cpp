#include "metrics_endpoint.hpp"

#include <corio/detail/json_escape.hpp>
#include <corio/runtime.hpp>
#include <corio/stream_reader.hpp>
#include <corio/stream_writer.hpp>

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

namespace corio::detail {

namespace {

void histogram_json(std::string& out, const char* key, const duration_histogram& h) {
  fmt::format_to(std::back_inserter(out), R"("{}":{{"samples":{},"p50_ns":{},"p99_ns":{},"counts":[)", key, h.total(),
                 h.quantile(0.5).count(), h.quantile(0.99).count());
  for (std::size_t i = 0; i < h.size; ++i) fmt::format_to(std::back_inserter(out), "{}{}", i ? "," : "", h.counts[i]);
  out += "]}";
}

task<void> session(runtime* rt, stream_reader r, stream_writer w) {
  for (;;) {
    std::string line = co_await r.readline();
    if (line.empty()) co_return;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line == "metrics") {
      w.write(metrics_json(rt->metrics()) + "\n");
    } else if (line == "tasks") {
      auto ts = co_await all_tasks();
      w.write(tasks_json(ts) + "\n");
    } else {
      w.write(R"({"error":"unknown command: send metrics or tasks"})" "\n");
    }
    co_await w.drain();
  }
}

} // namespace

std::string metrics_json(const scheduler_metrics& m) {
  std::string out = "{\"workers\":[";
  for (std::size_t i = 0; i < m.workers.size(); ++i) {
    const auto& w = m.workers[i];
    fmt::format_to(std::back_inserter(out),
                   R"({}{{"polled":{},"stolen":{},"steal_operations":{},"parks":{},"unparks":{},"overflows":{},"lifo_hits":{},"global_pops":{},"local_queue_depth":{},)",
                   i ? "," : "", w.polled, w.stolen, w.steal_operations, w.parks, w.unparks, w.overflows, w.lifo_hits,
                   w.global_pops, w.local_queue_depth);
    histogram_json(out, "poll_time", w.poll_time);
    out += ',';
    histogram_json(out, "schedule_latency", w.schedule_latency);
    out += '}';
  }
  fmt::format_to(std::back_inserter(out),
                 R"(],"global_queue_depth":{},"tasks_spawned":{},"tasks_alive":{},"offloads_in_flight":{},"io_completions":{}}})",
                 m.global_queue_depth, m.tasks_spawned, m.tasks_alive, m.offloads_in_flight, m.io_completions);
  return out;
}

std::string tasks_json(const std::vector<task_snapshot>& ts) {
  std::string out = "[";
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const auto& t = ts[i];
    std::string chain = "[";
    for (std::size_t k = 0; k < t.await_chain.size(); ++k)
      fmt::format_to(std::back_inserter(chain), R"({}"{}")", k ? "," : "", json_escape(t.await_chain[k].function));
    chain += "]";
    fmt::format_to(std::back_inserter(out),
                   R"({}{{"id":"{:#x}","state":"{}","name":"{}","function":"{}","waiting_on":"{}","await_chain":{},"parent":"{:#x}","age_s":{}}})",
                   i ? "," : "", t.id, to_string(t.state), json_escape(t.name), json_escape(t.function),
                   json_escape(t.waiting_on), chain, t.parent,
                   t.age ? fmt::format("{:.6f}", std::chrono::duration<double>(*t.age).count()) : std::string("null"));
  }
  return out + "]";
}

std::pair<std::string, std::uint16_t> parse_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size())
    throw std::invalid_argument("corio: metrics address must be host:port, got '" + address + "'");
  unsigned port = 0;
  const char* first = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  auto [p, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || p != last || port > 65535)
    throw std::invalid_argument("corio: bad port in metrics address '" + address + "'");
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, static_cast<std::uint16_t>(port)};
}

task<server> start_metrics_endpoint(runtime& rt, std::string host, std::uint16_t port) {
  runtime* self = &rt;
  connection_handler handler = [self](stream_reader r, stream_writer w) { return session(self, std::move(r), std::move(w)); };
  co_return co_await start_server(std::move(handler), std::move(host), port);
}

} // namespace corio::detail
