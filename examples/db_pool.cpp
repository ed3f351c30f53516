// Beyond the seed: a small connection pool shared by many tasks.
//
// 100 tasks each run 20 queries through a pool of 5 simulated connections. The pool is a
// corio::queue of free connections (a semaphore would bound it the same way; the queue also
// hands out *which* connection): a task waits when all 5 are busy. Every query increments a
// counter guarded by a corio::mutex, held across an await to make the point: with a plain
// int and no lock, concurrent tasks on several workers would lose updates.
//   db_pool [--tasks 100] [--queries 20] [--pool 5] [--workers N]
#include "example_support.hpp"

#include <corio/corio.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

struct connection {
  int id;
  corio::task<std::string> query(std::string sql) {
    co_await corio::sleep(2ms); // simulating the database
    co_return "result of " + sql;
  }
};

class pool {
public:
  explicit pool(int size) : free_(static_cast<std::size_t>(size)) {
    for (int i = 0; i < size; ++i) free_.put_nowait(connection{i});
  }

  // A connection for the duration of the body; back to the pool on every path out.
  template <class Body>
  corio::task<void> with_connection(Body body) {
    connection c = co_await free_.get();
    int now = in_use_.fetch_add(1) + 1;
    for (int peak = peak_.load(); now > peak && !peak_.compare_exchange_weak(peak, now);) {
    }
    std::exception_ptr error;
    try {
      co_await body(c);
    } catch (...) {
      error = std::current_exception();
    }
    in_use_.fetch_sub(1);
    free_.put_nowait(c);
    if (error) std::rethrow_exception(error);
  }

  int peak() const { return peak_.load(); }

private:
  corio::queue<connection> free_;
  std::atomic<int> in_use_{0}, peak_{0};
};

corio::task<void> amain(int tasks, int queries, int pool_size) {
  pool db(pool_size);
  corio::mutex counter_lock;
  long counter = 0;
  auto client = [&](int id) -> corio::task<void> {
    for (int q = 0; q < queries; ++q) {
      co_await db.with_connection([&](connection& c) -> corio::task<void> {
        co_await c.query("SELECT " + std::to_string(id));
      });
      auto guard = co_await counter_lock.scoped_lock();
      long seen = counter;
      co_await corio::yield(); // other tasks run here; the lock keeps them out of the counter
      counter = seen + 1;
    }
  };
  auto start = std::chrono::steady_clock::now();
  // A task group owns the clients: leaving it waits for all of them, and if one failed the
  // others would be cancelled and every failure reported together (corio::exception_group).
  co_await corio::with_task_group([&](corio::task_group& tg) -> corio::task<void> {
    for (int i = 0; i < tasks; ++i) tg.create_task(client(i));
    co_return;
  });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  example::say("{} queries by {} tasks over {} connections in {} ms", tasks * queries, tasks, pool_size, ms);
  example::say("connections in use at once: at most {}", db.peak());
  example::say("counter = {} (expected {}): {}", counter, tasks * queries,
               counter == tasks * queries ? "no lost updates" : "LOST UPDATES");
}

int main(int argc, char** argv) {
  example::options o(argc, argv);
  corio::run(amain(static_cast<int>(o.num("tasks", 100)), static_cast<int>(o.num("queries", 20)),
                   static_cast<int>(o.num("pool", 5))),
             {.workers = static_cast<std::size_t>(o.num("workers", 0))});
}
