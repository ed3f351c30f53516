// The server examples, driven by real TCP clients from another process' point of view.
#include <support/process.hpp>
#include <support/test_support.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

using corio_test::child_process;
using corio_test::tcp_client;

namespace {

std::string bin(const char* name) { return std::string(CORIO_EXAMPLES_DIR) + "/" + name; }

// Starts a server example on a free port; returns the port from its banner.
std::uint16_t start(child_process& p) {
  auto banner = p.read_line();
  REQUIRE(banner);
  REQUIRE(banner->text.rfind("Serving on ", 0) == 0);
  return corio_test::port_from_banner(banner->text);
}

std::string prefix_of(tcp_client& c) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(c.fd(), reinterpret_cast<sockaddr*>(&a), &len);
  return "127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + ": ";
}

} // namespace

TEST_CASE("examples: echo_server echoes", "[examples][server]") {
  child_process p({bin("echo_server"), "--port", "0", "--workers", "2"});
  auto port = start(p);
  tcp_client a(port), b(port);
  REQUIRE(a.send_all("ping\n"));
  REQUIRE(b.send_all("pong\n"));
  REQUIRE(a.read_line() == "ping\n");
  REQUIRE(b.read_line() == "pong\n");
  std::string big(200000, 'x');
  big += "\n";
  REQUIRE(a.send_all(big));
  REQUIRE(a.read_line() == big);
}

TEST_CASE("examples: chat_server relays lines to every other client", "[examples][chat]") {
  child_process p({bin("chat_server"), "--port", "0", "--quiet", "--workers", "2"});
  auto port = start(p);
  tcp_client a(port), b(port), c(port);
  std::this_thread::sleep_for(std::chrono::milliseconds(100)); // all three registered
  REQUIRE(a.send_all("hello\n"));
  auto from_a = prefix_of(a);
  REQUIRE(b.read_line() == from_a + "hello\n");
  REQUIRE(c.read_line() == from_a + "hello\n");
  // Empty lines are ignored; other bytes, UTF-8 or not, are relayed as they are.
  REQUIRE(b.send_all("\n\xff\xfe binary \xc3\x28\n"));
  auto from_b = prefix_of(b);
  REQUIRE(a.read_line() == from_b + "\xff\xfe binary \xc3\x28\n");
  REQUIRE(c.read_line() == from_b + "\xff\xfe binary \xc3\x28\n");
  // The sender never gets its own line back.
  REQUIRE(c.send_all("from c\n"));
  REQUIRE(a.read_line() == prefix_of(c) + "from c\n");
  REQUIRE(b.read_line() == prefix_of(c) + "from c\n");
  REQUIRE(c.read_line(300) == std::nullopt);
}

TEST_CASE("examples: chat_server survives departures, oversized lines and clients that never read", "[examples][chat]") {
  child_process p({bin("chat_server"), "--port", "0", "--quiet", "--workers", "2", "--outbox", "65536"});
  auto port = start(p);
  tcp_client talker(port), listener(port);
  auto leaver = std::make_unique<tcp_client>(port);
  tcp_client sleeper(port, "127.0.0.1", 4096); // never reads; a small window so the server buffers
  tcp_client flooder(port);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // A client that leaves does not disturb delivery to the rest.
  leaver->close_now();
  REQUIRE(talker.send_all("still here\n"));
  REQUIRE(listener.read_line() == prefix_of(talker) + "still here\n");

  // A 1 MiB line without a newline closes that client only.
  REQUIRE(flooder.send_all(std::string(1 << 20, 'A')));
  REQUIRE(flooder.closed_by_peer());
  REQUIRE(talker.send_all("after flood\n"));
  REQUIRE(listener.read_line() == prefix_of(talker) + "after flood\n");

  // The sleeper's outbox fills past 64 KiB (after whatever the kernel buffers): it is
  // disconnected, while the listener keeps receiving every line throughout.
  std::string line(1000, 'm');
  line += "\n";
  int sent = 0;
  for (; sent < 20000 && !sleeper.peer_gone(); ++sent) {
    REQUIRE(talker.send_all(line));
    REQUIRE(listener.read_line() == prefix_of(talker) + line);
  }
  INFO("lines sent before the sleeper was cut off: " << sent);
  REQUIRE(sleeper.peer_gone());
  REQUIRE(talker.send_all("done\n"));
  REQUIRE(listener.read_line() == prefix_of(talker) + "done\n");
}

TEST_CASE("examples: chat_server serves 1,000 concurrent clients", "[examples][chat][scale]") {
  child_process p({bin("chat_server"), "--port", "0", "--quiet", "--workers", "2"});
  auto port = start(p);
  const int n = corio_test::sanitized() ? 200 : 1000;
  std::vector<std::unique_ptr<tcp_client>> clients;
  auto ends_with = [](const std::optional<std::string>& l, std::string_view tail) {
    return l && l->size() >= tail.size() && l->compare(l->size() - tail.size(), tail.size(), tail) == 0;
  };
  // Make sure the server has taken every client in before the broadcast (under a sanitizer
  // that can take a while). First client 0: client 1 probes until client 0 hears it.
  clients.push_back(std::make_unique<tcp_client>(port));
  clients.push_back(std::make_unique<tcp_client>(port));
  for (bool heard = false; !heard;) {
    REQUIRE(clients[1]->send_all("probe\n"));
    heard = ends_with(clients[0]->read_line(100), "probe\n");
  }
  // Then everyone else says hello, and client 0 hears each of them.
  for (int i = 2; i < n; ++i) clients.push_back(std::make_unique<tcp_client>(port));
  for (int i = 2; i < n; ++i) REQUIRE(clients[static_cast<std::size_t>(i)]->send_all("hello\n"));
  for (int heard = 0; heard < n - 2;) {
    auto l = clients[0]->read_line(30000);
    REQUIRE(l.has_value());
    heard += ends_with(l, ": hello\n");
  }
  REQUIRE(clients[0]->send_all("to everyone\n"));
  auto expected = prefix_of(*clients[0]) + "to everyone\n";
  int received = 0;
  for (int i = 1; i < n; ++i) {
    auto& c = *clients[static_cast<std::size_t>(i)];
    // Skip the hellos of the clients that arrived after this one.
    for (std::optional<std::string> l; (l = c.read_line(30000)) && !l->empty();) {
      if (*l == expected) {
        ++received;
        break;
      }
    }
  }
  REQUIRE(received == n - 1);
}

TEST_CASE("examples: chat_client sends stdin lines and prints what arrives", "[examples][chat]") {
  child_process server({bin("chat_server"), "--port", "0", "--quiet"});
  auto port = start(server);
  tcp_client other(port);
  child_process client({bin("chat_client"), "--port", std::to_string(port)});
  auto banner = client.read_line();
  REQUIRE(banner);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  client.write_stdin("hi from stdin\n");
  auto got = other.read_line();
  REQUIRE(got);
  REQUIRE(got->find(": hi from stdin\n") != std::string::npos);
  REQUIRE(other.send_all("hello client\n"));
  auto printed = client.read_line();
  REQUIRE(printed);
  REQUIRE(printed->text.find(": hello client") != std::string::npos);
  client.close_stdin();
}

TEST_CASE("examples: cpu_offload answers primes through offload and pings at once", "[examples]") {
  for (const char* mode : {"--offload", "--inline"}) {
    std::vector<std::string> args{bin("cpu_offload"), "--port", "0", "--workers", "2"};
    if (std::string(mode) == "--inline") args.push_back("--inline");
    child_process p(args);
    auto port = start(p);
    tcp_client c(port);
    REQUIRE(c.send_all("primes 100\n"));
    REQUIRE(c.read_line() == "25\n");
    REQUIRE(c.send_all("ping\n"));
    REQUIRE(c.read_line() == "pong\n");
    REQUIRE(c.send_all("primes 1000000\nping\n"));
    REQUIRE(c.read_line() == "78498\n");
    REQUIRE(c.read_line() == "pong\n");
    REQUIRE(c.send_all("nonsense\n"));
    REQUIRE(c.read_line() == "error: expected 'ping' or 'primes N'\n");
    REQUIRE(c.send_all("primes lots\n")); // a bad number drops this client only
    REQUIRE(c.closed_by_peer());
    tcp_client other(port);
    REQUIRE(other.send_all("ping\n"));
    REQUIRE(other.read_line() == "pong\n");
  }
}

TEST_CASE("examples: a server stops cleanly on SIGTERM with clients connected, writing CORIO_TRACE", "[examples][server][trace]") {
  const std::string trace = "/tmp/corio_servers_test_trace_" + std::to_string(getpid()) + ".json";
  std::remove(trace.c_str());
  // Only the child sees the variable: this process creates no runtime while it is set.
  setenv("CORIO_TRACE", trace.c_str(), 1);
  child_process p({bin("chat_server"), "--port", "0", "--quiet", "--workers", "2"});
  unsetenv("CORIO_TRACE");
  auto port = start(p);
  tcp_client a(port), b(port);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(a.send_all("before the end\n"));
  REQUIRE(b.read_line() == prefix_of(a) + "before the end\n");
  p.terminate();
  REQUIRE(p.wait() == 0);                      // main returned: a clean exit, not death by signal
  REQUIRE(a.closed_by_peer(2000));             // the server ended the connections
  std::FILE* f = std::fopen(trace.c_str(), "r");
  REQUIRE(f != nullptr);
  std::string json;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) json.append(buf, n);
  std::fclose(f);
  std::remove(trace.c_str());
  CHECK(json.rfind("{\"displayTimeUnit\"", 0) == 0);
  CHECK(json.find("\"cat\":\"task\",\"ph\":\"X\"") != std::string::npos); // coroutine steps
  CHECK(json.find("\"name\":\"serve_until_signal\"") != std::string::npos); // named after the coroutine
  CHECK(json.find("\"io 0\"") != std::string::npos);
}
