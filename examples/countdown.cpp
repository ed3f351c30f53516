// The seed's "event loop by hand" snippet: create the runtime, create tasks on it, run until
// main completes, shut it down.
#include "example_support.hpp"

#include <corio/corio.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

corio::task<void> countdown(std::string name, int n) {
  while (n > 0) {
    example::say("{}: {}", name, n);
    co_await corio::sleep(1s);
    n -= 1;
  }
}

corio::task<void> amain(corio::runtime& loop) {
  auto task1 = loop.spawn(countdown("Countdown 1", 5)); // loop.create_task(...)
  auto task2 = loop.spawn(countdown("Countdown 2", 3));
  co_await task1;
  co_await task2;
}

int main() {
  corio::runtime loop;          // asyncio.get_event_loop()
  loop.block_on(amain(loop));   // loop.run_until_complete(main())
  loop.shutdown();              // loop.close()
}
