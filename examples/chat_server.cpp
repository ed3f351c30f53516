// The seed's chat server, made line-based and robust.
//
// Every line a client sends goes to every other client as "<peer>: <line>". Empty lines are
// ignored; other bytes (including non-UTF-8) are relayed as they are. A client that disconnects,
// even in the middle of a broadcast, only stops receiving. A client that does not read gets an
// outbox of at most --outbox bytes (1 MiB by default); past that it is disconnected, so it can
// neither grow the server's memory nor hold the others up. A line longer than --limit (64 KiB)
// disconnects its sender only.
//   chat_server [--host 127.0.0.1] [--port 8888] [--workers N] [--io-threads N] [--quiet]
#include "example_support.hpp"
#include "serve_until_signal.hpp"

#include <corio/corio.hpp>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

class chat_server {
public:
  chat_server(std::size_t outbox, bool quiet) : outbox_(outbox), quiet_(quiet) {}

  corio::task<void> handle_client(corio::stream_reader reader, corio::stream_writer writer) {
    auto me = std::make_shared<corio::stream_writer>(writer);
    auto addr = writer.get_extra_info("peername").value_or("?");
    add(me);
    try {
      for (;;) {
        auto line = co_await reader.readline();
        if (line.empty()) break; // end of stream
        if (line == "\n" || line == "\r\n") continue;
        if (line.back() != '\n') line.push_back('\n'); // last line without newline at EOF
        if (!quiet_) example::say("Received {} from {}", std::string_view(line).substr(0, line.size() - 1), addr);
        broadcast(me, addr + ": " + line);
      }
    } catch (const corio::limit_overrun_error&) {
      if (!quiet_) example::say("Disconnecting {}: line longer than the limit", addr);
    } catch (const corio::io_error&) {
      // reset by the peer
    }
    remove(me);
    me->abort();
  }

private:
  void add(const std::shared_ptr<corio::stream_writer>& w) {
    std::lock_guard lock(mu_);
    clients_.push_back(w);
  }
  void remove(const std::shared_ptr<corio::stream_writer>& w) {
    std::lock_guard lock(mu_);
    std::erase(clients_, w);
  }

  // write() only appends to each client's buffer (and never suspends), so the loop runs under a
  // plain mutex; each client's flush task sends what piled up in one go.
  void broadcast(const std::shared_ptr<corio::stream_writer>& from, const std::string& message) {
    std::vector<std::shared_ptr<corio::stream_writer>> too_slow;
    {
      std::lock_guard lock(mu_);
      for (auto& c : clients_) {
        if (c == from) continue;
        // One call: append (dropped if the client is already gone) and learn its backlog.
        if (c->write(message) > outbox_) too_slow.push_back(c);
      }
    }
    for (auto& c : too_slow) {
      if (!quiet_) example::say("Disconnecting {}: not reading", c->get_extra_info("peername").value_or("?"));
      remove(c);
      c->abort(); // its handler's readline ends, and it leaves
    }
  }

  std::size_t outbox_;
  bool quiet_;
  std::mutex mu_;
  std::vector<std::shared_ptr<corio::stream_writer>> clients_;
};

corio::task<void> amain(std::string host, std::uint16_t port, std::size_t outbox, std::size_t limit, bool quiet) {
  chat_server chat(outbox, quiet);
  corio::server_options opts;
  opts.streams.limit = limit;
  auto server = co_await corio::start_server(
      [&chat](corio::stream_reader r, corio::stream_writer w) { return chat.handle_client(std::move(r), std::move(w)); },
      host, port, opts);
  example::say("Serving on {}:{}", host, server.port());
  co_await example::serve_until_signal(server);
}

int main(int argc, char** argv) {
  example::options o(argc, argv);
  corio::run(amain(o.get("host", "127.0.0.1"), static_cast<std::uint16_t>(o.num("port", 8888)),
                   static_cast<std::size_t>(o.num("outbox", 1 << 20)), static_cast<std::size_t>(o.num("limit", 64 * 1024)),
                   o.flag("quiet")),
             {.workers = static_cast<std::size_t>(o.num("workers", 0)),
              .io_threads = static_cast<std::size_t>(o.num("io-threads", 1))});
}
