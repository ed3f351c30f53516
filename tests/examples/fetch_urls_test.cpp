// fetch_urls against a real HTTP server: python3 -m http.server on a temporary directory.
#include <support/process.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

using corio_test::child_process;

TEST_CASE("examples: fetch_urls fetches several URLs concurrently from a real HTTP server", "[examples][http]") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("corio_fetch_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "small.txt") << "hello";
  std::ofstream(dir / "big.bin") << std::string(300000, 'b');

  // Pick a free port by binding port 0 and letting it go.
  corio_test::tcp_client* unused = nullptr;
  (void)unused;
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
  auto port = std::to_string(ntohs(a.sin_port));
  close(probe);

  child_process http({"/usr/bin/env", "python3", "-m", "http.server", port, "--bind", "127.0.0.1", "--directory",
                      dir.string()});
  // Wait until it accepts connections.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    try {
      corio_test::tcp_client c(static_cast<std::uint16_t>(std::stoi(port)));
      up = true;
    } catch (...) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  REQUIRE(up);

  std::string base = "http://127.0.0.1:" + port + "/";
  child_process f({std::string(CORIO_EXAMPLES_DIR) + "/fetch_urls", base + "small.txt", base + "big.bin", base + "missing"});
  std::set<std::string> lines;
  for (int i = 0; i < 3; ++i) {
    auto l = f.read_line();
    REQUIRE(l);
    lines.insert(l->text);
  }
  REQUIRE(f.wait() == 0);
  CHECK(lines.count(base + "small.txt: 200 5 bytes") == 1);
  CHECK(lines.count(base + "big.bin: 200 300000 bytes") == 1);
  bool missing_404 = false;
  for (auto& l : lines) missing_404 = missing_404 || l.rfind(base + "missing: 404 ", 0) == 0;
  CHECK(missing_404);
  http.terminate();
  fs::remove_all(dir);
}
