// A tiny program using corio the way another project would.
#include <corio/corio.hpp>

#include <cstdio>

corio::task<int> square(int x) { co_return x * x; }

corio::task<int> amain() {
  auto [a, b] = co_await corio::gather(square(3), square(4));
  auto h = corio::create_task(square(5));
  co_return a + b + co_await h;
}

int main() {
  int v = corio::run(amain(), {.workers = 2});
  std::printf("%d\n", v);
  return v == 50 ? 0 : 1;
}
