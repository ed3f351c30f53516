// The seed's asynchronous context manager: a simulated database connection whose setup and
// teardown are asynchronous, used through corio::with (asyncio's `async with`).
#include "example_support.hpp"

#include <corio/corio.hpp>

#include <chrono>
#include <exception>
#include <string>

using namespace std::chrono_literals;

class async_database_connection {
public:
  // __aenter__
  static corio::task<async_database_connection> connect() {
    example::say("Connecting to the database...");
    co_await corio::sleep(1s); // simulating connection time
    example::say("Connected!");
    co_return async_database_connection();
  }

  // __aexit__: runs however the body ends (return, exception, cancellation).
  corio::task<void> aexit(std::exception_ptr) {
    example::say("Closing database connection...");
    co_await corio::sleep(500ms); // simulating disconnection time
    example::say("Connection closed!");
  }

  corio::task<std::string> query(std::string sql) {
    example::say("Executing query: {}", sql);
    co_await corio::sleep(500ms); // simulating query execution
    co_return "Result of " + sql;
  }
};

corio::task<void> amain() {
  co_await corio::with(async_database_connection::connect(), [](async_database_connection& conn) -> corio::task<void> {
    auto result1 = co_await conn.query("SELECT * FROM users");
    auto result2 = co_await conn.query("SELECT * FROM products");
    example::say("{}", result1);
    example::say("{}", result2);
  });
}

int main() { corio::run(amain()); }
