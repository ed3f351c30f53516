// A server with two kinds of requests: "primes N" (count the primes below N: CPU-heavy) and
// "ping" (answered at once). The heavy work goes to corio::offload, so pings stay fast while
// the CPU is busy; with --inline it runs on the workers and every ping waits behind it.
//   cpu_offload [--port 8888] [--inline] [--workers N]
//   cpu_offload --load-test [--inline] [--seconds 3]   # clients in the same process; prints
//                                                        # the ping round trip p50 / p99
#include "example_support.hpp"

#include <corio/corio.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

using namespace std::chrono_literals;

long count_primes(long below) {
  std::vector<bool> composite(static_cast<std::size_t>(std::max(below, 2L)), false);
  long count = 0;
  for (long i = 2; i < below; ++i) {
    if (composite[static_cast<std::size_t>(i)]) continue;
    ++count;
    for (long j = i * i; j < below; j += i) composite[static_cast<std::size_t>(j)] = true;
  }
  return count;
}

corio::task<void> handle(corio::stream_reader reader, corio::stream_writer writer, bool inline_cpu) {
  try {
    for (;;) {
      auto line = co_await reader.readline();
      if (line.empty()) break;
      if (line.rfind("ping", 0) == 0) {
        writer.write("pong\n");
      } else if (line.rfind("primes ", 0) == 0) {
        long n = std::stol(line.substr(7));
        long c = inline_cpu ? count_primes(n) : co_await corio::offload(count_primes, n);
        writer.write(std::to_string(c) + "\n");
      } else {
        writer.write("error: expected 'ping' or 'primes N'\n");
      }
      co_await writer.drain();
    }
  } catch (const std::exception&) {
    // a malformed number or a reset connection: drop this client only
  }
}

corio::task<corio::server> serve(std::string host, std::uint16_t port, bool inline_cpu) {
  co_return co_await corio::start_server(
      [inline_cpu](corio::stream_reader r, corio::stream_writer w) { return handle(std::move(r), std::move(w), inline_cpu); },
      host, port);
}

// Keeps the CPU busy with prime requests, as a load of heavy clients would.
corio::task<void> heavy_client(std::uint16_t port, std::chrono::steady_clock::time_point until) {
  auto [r, w] = co_await corio::open_connection("127.0.0.1", port);
  while (std::chrono::steady_clock::now() < until) {
    w.write("primes 2000000\n");
    co_await r.readline();
  }
}

corio::task<std::vector<long>> ping_client(std::uint16_t port, std::chrono::steady_clock::time_point until) {
  auto [r, w] = co_await corio::open_connection("127.0.0.1", port);
  std::vector<long> rtt_us;
  while (std::chrono::steady_clock::now() < until) {
    auto start = std::chrono::steady_clock::now();
    w.write("ping\n");
    co_await r.readline();
    rtt_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
    co_await corio::sleep(1ms);
  }
  co_return rtt_us;
}

corio::task<int> load_test(bool inline_cpu, int seconds) {
  auto srv = co_await serve("127.0.0.1", 0, inline_cpu);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::vector<corio::task<void>> heavy;
  for (int i = 0; i < 4; ++i) heavy.push_back(heavy_client(srv.port(), until));
  auto h = corio::create_task(corio::gather(std::move(heavy)));
  auto rtt = co_await ping_client(srv.port(), until);
  co_await h;
  std::sort(rtt.begin(), rtt.end());
  auto pct = [&](double p) { return rtt.empty() ? 0L : rtt[static_cast<std::size_t>(p * static_cast<double>(rtt.size() - 1))]; };
  example::say("{}: {} pings under load, round trip p50 {} us, p99 {} us", inline_cpu ? "inline" : "offload", rtt.size(),
               pct(0.5), pct(0.99));
  srv.close();
  co_return 0;
}

corio::task<int> run_server(std::string host, std::uint16_t port, bool inline_cpu) {
  auto srv = co_await serve(host, port, inline_cpu);
  example::say("Serving on {}:{} ({} prime counting)", host, srv.port(), inline_cpu ? "inline" : "offloaded");
  co_await srv.serve_forever();
  co_return 0;
}

int main(int argc, char** argv) {
  example::options o(argc, argv);
  bool inline_cpu = o.flag("inline");
  corio::runtime_options opts{.workers = static_cast<std::size_t>(o.num("workers", 0))};
  if (o.flag("load-test")) return corio::run(load_test(inline_cpu, static_cast<int>(o.num("seconds", 3))), opts);
  return corio::run(run_server(o.get("host", "127.0.0.1"), static_cast<std::uint16_t>(o.num("port", 8888)), inline_cpu), opts);
}
