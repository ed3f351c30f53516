#pragma once
// Internal: the runtime's metrics endpoint for tools/top (runtime_options::metrics_address).
// A line protocol on a TCP port: "metrics" answers one JSON line with runtime::metrics(), "tasks"
// one JSON line with all_tasks(); anything else an error object. Each connection may ask again.
#include <corio/metrics.hpp>
#include <corio/server.hpp>
#include <corio/task.hpp>
#include <corio/task_info.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace corio {
class runtime;
}

namespace corio::detail {

std::string metrics_json(const scheduler_metrics& m);
std::string tasks_json(const std::vector<task_snapshot>& ts);
// "host:port" (port may be 0); throws std::invalid_argument.
std::pair<std::string, std::uint16_t> parse_address(const std::string& address);
task<server> start_metrics_endpoint(runtime& rt, std::string host, std::uint16_t port);

} // namespace corio::detail
