// Closed-loop load generator for the echo workload: `connections` sockets, each sends a message
// of `size` bytes, waits for all of it to come back, records the round trip, and sends again,
// for `seconds`. One thread on raw epoll so that it costs as little as possible; it reports its
// own CPU use so a saturated generator is visible.
//   bench_loadgen --port P [--connections 128] [--size 64] [--seconds 5]
// Prints one JSON object: requests/s, latency percentiles (microseconds), generator CPU share.
#include "bench_common.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct conn {
  int fd = -1;
  std::size_t got = 0; // bytes of the current echo received
  clock_type::time_point sent_at;
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

} // namespace

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  int port = static_cast<int>(a.num("port", 8888));
  std::size_t nconn = static_cast<std::size_t>(a.num("connections", 128));
  std::size_t size = static_cast<std::size_t>(a.num("size", 64));
  double seconds = static_cast<double>(a.num("seconds", 5));
  std::string msg(size, 'x');

  int ep = epoll_create1(0);
  std::vector<conn> conns(nconn);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  for (std::size_t i = 0; i < nconn; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) bench::fail("connect failed");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[i].fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }

  std::vector<std::uint32_t> lat_us;
  lat_us.reserve(4'000'000);
  auto start = clock_type::now();
  double cpu0 = cpu_seconds();
  auto end = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  for (auto& c : conns) {
    c.sent_at = clock_type::now();
    if (send(c.fd, msg.data(), size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) bench::fail("send failed");
  }
  std::uint64_t done = 0;
  std::vector<epoll_event> evs(1024);
  std::vector<char> buf(64 * 1024);
  bool running = true;
  while (running) {
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
    auto now = clock_type::now();
    if (now >= end) running = false;
    for (int i = 0; i < n; ++i) {
      auto& c = conns[evs[static_cast<std::size_t>(i)].data.u64];
      ssize_t r = recv(c.fd, buf.data(), buf.size(), 0);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        bench::fail("connection lost");
      }
      c.got += static_cast<std::size_t>(r);
      if (c.got >= size) {
        c.got -= size;
        ++done;
        lat_us.push_back(static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - c.sent_at).count()));
        if (running) {
          c.sent_at = clock_type::now();
          if (send(c.fd, msg.data(), size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) bench::fail("send failed");
        }
      }
    }
  }
  double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  double cpu = cpu_seconds() - cpu0;
  std::sort(lat_us.begin(), lat_us.end());
  auto pct = [&](double p) { return lat_us.empty() ? 0u : lat_us[static_cast<std::size_t>(p * static_cast<double>(lat_us.size() - 1))]; };
  // The latency distribution at a few points, for tools/bench --plot's CDFs.
  std::string cdf;
  for (double p : {0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0})
    cdf += fmt::format("{}[{}, {}]", cdf.empty() ? "" : ", ", p * 100, pct(p));
  fmt::print("{{\"requests\": {}, \"seconds\": {:.3f}, \"requests_per_s\": {:.0f}, \"p50_us\": {}, \"p99_us\": {}, "
             "\"loadgen_cpu\": {:.2f}, \"cdf_us\": [{}]}}\n",
             done, elapsed, static_cast<double>(done) / elapsed, pct(0.5), pct(0.99), cpu / elapsed, cdf);
  for (auto& c : conns) close(c.fd);
}
