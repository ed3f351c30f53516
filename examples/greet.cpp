// The seed's first snippet: three greetings gathered; all "Hello"s at once, a one-second pause,
// then all "Goodbye"s.
#include "example_support.hpp"

#include <corio/corio.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

corio::task<void> greet(std::string name) {
  example::say("Hello, {}!", name);
  co_await corio::sleep(1s);
  example::say("Goodbye, {}!", name);
}

corio::task<void> amain() { co_await corio::gather(greet("Alice"), greet("Bob"), greet("Charlie")); }

int main() { corio::run(amain()); }
