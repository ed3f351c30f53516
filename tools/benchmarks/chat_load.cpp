// Load for the chat workload: `clients` connections to a chat server; in each round every client
// sends `batch` lines, then everyone waits until every line has reached every other client.
// Counts each delivery, so a lost or duplicated line fails the run.
//   bench_chat_load --port P [--clients 100] [--batch 10] [--seconds 5]
#include "bench_common.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  bench::args a(argc, argv);
  int port = static_cast<int>(a.num("port", 8888));
  std::size_t nclients = static_cast<std::size_t>(a.num("clients", 100));
  std::size_t batch = static_cast<std::size_t>(a.num("batch", 10));
  double seconds = static_cast<double>(a.num("seconds", 5));

  int ep = epoll_create1(0);
  std::vector<int> fds(nclients);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  for (std::size_t i = 0; i < nclients; ++i) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fds[i], reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) bench::fail("connect failed");
    int one = 1;
    setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  // Let the server register everyone before the first broadcast.
  usleep(200 * 1000);

  std::string line;
  for (std::size_t k = 0; k < batch; ++k) line += "message from a chat client " + std::to_string(k) + "\n";
  std::vector<std::uint64_t> received(nclients, 0);
  std::vector<char> buf(256 * 1024);
  std::vector<epoll_event> evs(1024);
  std::uint64_t delivered = 0, rounds = 0;
  const std::uint64_t per_client_per_round = batch * (nclients - 1);
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
  while (std::chrono::steady_clock::now() < deadline) {
    for (int fd : fds)
      if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) bench::fail("send failed");
    ++rounds;
    std::size_t complete = 0;
    std::fill(received.begin(), received.end(), 0);
    auto round_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (complete < nclients) {
      if (std::chrono::steady_clock::now() > round_deadline) bench::fail("deliveries missing after 10 s: lost lines");
      int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 1000);
      for (int i = 0; i < n; ++i) {
        auto c = evs[static_cast<std::size_t>(i)].data.u64;
        ssize_t r = recv(fds[c], buf.data(), buf.size(), 0);
        if (r <= 0) {
          if (r < 0 && errno == EAGAIN) continue;
          bench::fail("a client was disconnected");
        }
        auto lines = static_cast<std::uint64_t>(std::count(buf.data(), buf.data() + r, '\n'));
        bool was = received[c] >= per_client_per_round;
        received[c] += lines;
        if (received[c] > per_client_per_round) bench::fail("more lines than were sent: duplicated deliveries");
        if (!was && received[c] == per_client_per_round) ++complete;
      }
    }
    delivered += per_client_per_round * nclients;
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{{\"clients\": {}, \"rounds\": {}, \"delivered\": {}, \"seconds\": {:.3f}, \"delivered_per_s\": {:.0f}}}\n",
             nclients, rounds, delivered, elapsed, static_cast<double>(delivered) / elapsed);
  for (int fd : fds) close(fd);
}
