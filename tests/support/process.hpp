#pragma once
// Test helpers for running example programs as real processes and talking to them as a real
// peer would: a child process with its output read line by line (with the time each line
// arrived), and a plain blocking TCP client (no corio on the client side).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace corio_test {

using steady = std::chrono::steady_clock;

class child_process {
public:
  explicit child_process(std::vector<std::string> argv) {
    int out[2], in[2];
    if (pipe(out) != 0 || pipe(in) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    start_ = steady::now();
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0)
      throw std::runtime_error("cannot start " + argv[0]);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(in[0]);
    out_ = out[0];
    in_ = in[1];
  }
  ~child_process() {
    if (in_ >= 0) close(in_);
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  struct line {
    std::string text;
    double at; // seconds since the process started
  };

  // The next line of standard output, or nullopt at end of output or after `timeout`.
  std::optional<line> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = steady::now() + timeout;
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        line l{buf_.substr(0, nl), seconds_since_start()};
        buf_.erase(0, nl + 1);
        return l;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char tmp[4096];
      ssize_t n = ::read(out_, tmp, sizeof tmp);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

  void write_stdin(const std::string& s) {
    if (::write(in_, s.data(), s.size()) != static_cast<ssize_t>(s.size())) throw std::runtime_error("write to child failed");
  }
  void close_stdin() {
    close(in_);
    in_ = -1;
  }

  // Waits for the process to exit; its exit status, or -1 on timeout (then it is killed).
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto deadline = steady::now() + timeout;
    while (steady::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(5000);
    }
    return -1;
  }
  void terminate() {
    if (!exited_) kill(pid_, SIGTERM);
  }
  double seconds_since_start() const { return std::chrono::duration<double>(steady::now() - start_).count(); }

private:
  pid_t pid_ = -1;
  int out_ = -1, in_ = -1;
  bool exited_ = false;
  std::string buf_;
  steady::time_point start_;
};

// A blocking TCP client with timeouts: what nc or a test script would be.
class tcp_client {
public:
  explicit tcp_client(std::uint16_t port, const char* host = "127.0.0.1", int rcvbuf = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf); // before connect
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
  }
  ~tcp_client() {
    if (fd_ >= 0) close(fd_);
  }
  tcp_client(const tcp_client&) = delete;
  tcp_client& operator=(const tcp_client&) = delete;

  bool send_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // A line (with its "\n"), "" at end of stream, nullopt on timeout or error.
  std::optional<std::string> read_line(int timeout_ms = 5000) {
    set_timeout(timeout_ms);
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        auto l = buf_.substr(0, nl + 1);
        buf_.erase(0, nl + 1);
        return l;
      }
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return std::string();
      if (n < 0) return std::nullopt;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }
  // True if the server closed the connection (EOF or reset) within the timeout; reads and
  // discards whatever arrives meanwhile.
  bool closed_by_peer(int timeout_ms = 5000) {
    set_timeout(timeout_ms);
    char tmp[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }
  // Without reading anything: has the server closed or reset the connection already?
  bool peer_gone() {
    pollfd p{fd_, POLLRDHUP | POLLHUP | POLLERR, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
  }
  void close_now() {
    close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

private:
  void set_timeout(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  int fd_ = -1;
  std::string buf_;
};

// "Serving on 127.0.0.1:40123" -> 40123
inline std::uint16_t port_from_banner(const std::string& line) {
  auto colon = line.rfind(':');
  return static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
}

} // namespace corio_test
