// The seed's "Working with Tasks" snippet: a task per URL, a simulated 2-second network delay,
// results gathered in URL order.
#include "example_support.hpp"

#include <corio/corio.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

corio::task<std::string> fetch_data(std::string url) {
  example::say("Fetching data from {}", url);
  co_await corio::sleep(2s); // simulating network delay
  example::say("Data fetched from {}", url);
  co_return "Data from " + url;
}

corio::task<void> amain() {
  std::vector<std::string> urls = {"https://api.example.com/users", "https://api.example.com/products",
                                   "https://api.example.com/orders"};
  std::vector<corio::join_handle<std::string>> tasks;
  for (auto& url : urls) tasks.push_back(corio::create_task(fetch_data(url)));
  auto results = co_await corio::gather(tasks);
  for (auto& result : results) example::say("{}", result);
}

int main() { corio::run(amain()); }
