// The seed's fetch_data, for real: an HTTP/1.1 GET of every URL given, all at once, printing
// each status and body size. Only http:// (no TLS).
//   fetch_urls http://127.0.0.1:8000/ http://example.com/
#include "example_support.hpp"

#include <corio/corio.hpp>

#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

struct url {
  std::string host, path;
  std::uint16_t port = 80;
};

url parse(const std::string& s) {
  const std::string scheme = "http://";
  if (s.rfind(scheme, 0) != 0) throw std::invalid_argument("only http:// URLs are supported: " + s);
  url u;
  auto rest = s.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon != std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = static_cast<std::uint16_t>(std::stoi(authority.substr(colon + 1)));
  } else {
    u.host = authority;
  }
  if (u.host.empty()) throw std::invalid_argument("no host in " + s);
  return u;
}

std::size_t hex(const std::string& s) {
  std::size_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return v;
}

struct response {
  int status = 0;
  std::size_t size = 0;
};

corio::task<response> fetch(std::string target) {
  url u = parse(target);
  auto [reader, writer] = co_await corio::open_connection(u.host, u.port);
  writer.write("GET " + u.path + " HTTP/1.1\r\nHost: " + u.host + "\r\nUser-Agent: corio-fetch_urls\r\n" +
               "Connection: close\r\n\r\n");
  response r;
  auto status_line = co_await reader.readline(); // "HTTP/1.1 200 OK"
  auto sp = status_line.find(' ');
  if (sp == std::string::npos) throw std::runtime_error("not an HTTP response from " + target);
  r.status = std::stoi(status_line.substr(sp + 1, 3));
  std::optional<std::size_t> length;
  bool chunked = false;
  for (;;) {
    auto h = co_await reader.readline();
    if (h == "\r\n" || h == "\n" || h.empty()) break;
    std::string lower;
    for (char c : h) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower.rfind("content-length:", 0) == 0) length = std::stoul(h.substr(15));
    if (lower.rfind("transfer-encoding:", 0) == 0 && lower.find("chunked") != std::string::npos) chunked = true;
  }
  if (chunked) {
    for (;;) {
      auto n = hex(co_await reader.readline());
      if (n == 0) break;
      r.size += (co_await reader.readexactly(n)).size();
      co_await reader.readline(); // the chunk's CRLF
    }
  } else if (length) {
    r.size = (co_await reader.readexactly(*length)).size();
  } else {
    r.size = (co_await reader.read()).size(); // until the server closes
  }
  co_return r;
}

corio::task<int> amain(std::vector<std::string> urls) {
  std::vector<corio::task<response>> fetches;
  for (auto& u : urls) fetches.push_back(fetch(u));
  auto results = co_await corio::gather_settled(std::move(fetches));
  int failures = 0;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    if (results[i]) {
      example::say("{}: {} {} bytes", urls[i], results[i]->status, results[i]->size);
    } else {
      ++failures;
      example::say("{}: error: {}", urls[i], corio::describe_exception(results[i].error()));
    }
  }
  co_return failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  std::vector<std::string> urls(argv + 1, argv + argc);
  if (urls.empty()) {
    fmt::print(stderr, "usage: fetch_urls http://host[:port]/path ...\n");
    return 2;
  }
  return corio::run(amain(std::move(urls)));
}
