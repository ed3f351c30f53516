#pragma once
// Shared scaffolding for the benchmark programs: argument parsing, timing, peak RSS, and the
// one JSON line each run prints. tools/bench runs each program several times and takes medians.
#include <fmt/core.h>


#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>

namespace bench {

struct args {
  std::map<std::string, std::string> kv;

  args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument: " + a);
      auto eq = a.find('=');
      if (eq != std::string::npos)
        kv[a.substr(2, eq - 2)] = a.substr(eq + 1);
      else if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0)
        kv[a.substr(2)] = argv[++i];
      else
        kv[a.substr(2)] = "1";
    }
  }
  std::string get(const std::string& k, const std::string& def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  long long num(const std::string& k, long long def) const { return std::stoll(get(k, std::to_string(def))); }
};

// Peak RSS of this process image. getrusage's ru_maxrss survives execve on Linux (a child of a
// large parent reports the parent's peak), so read the memory map's own high-water mark.
inline long peak_rss_kb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
  std::fclose(f);
  return kb;
}

class stopwatch {
public:
  stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

private:
  std::chrono::steady_clock::time_point start_;
};

// params: a JSON object body, e.g. R"("n": 30)".
inline void report(const std::string& workload, const std::string& impl, long threads, const std::string& params,
                   double seconds, double ops, const std::string& extra = "") {
  fmt::print("{{\"workload\": \"{}\", \"impl\": \"{}\", \"threads\": {}, \"params\": {{{}}}, \"seconds\": {:.6f}, "
             "\"per_op_ns\": {:.2f}, \"rss_kb\": {}{}}}\n",
             workload, impl, threads, params, seconds, seconds * 1e9 / ops, peak_rss_kb(),
             extra.empty() ? "" : ", " + extra);
}

[[noreturn]] inline void fail(const std::string& what) {
  fmt::print(stderr, "benchmark failed: {}\n", what);
  std::exit(1);
}

} // namespace bench
