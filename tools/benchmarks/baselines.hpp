#pragma once
// The in-tree baselines of fib, skynet and spawn (oneTBB, plain Asio, and spawn's bare-memory
// floor), each workload's in a translation unit of its own (<workload>_baselines.cpp), apart
// from corio's. GCC's inlining budget is per unit (--param inline-unit-growth): sharing one with
// the instantiated Asio and oneTBB code left corio's coroutines short of it, and which inlining
// it cut (a coroutine's first resumption into its ramp, a join_handle's destructor) changed from
// one corio commit to the next by ~5 % of the instructions, for reasons unrelated to the commit.
// Each implementation compiled on its own is also how a program that uses only one of them is.
namespace bench {

// What a run computed, and how long it took (seconds, without the pool's start and stop).
struct timed_result {
  long result = 0;
  double seconds = 0;
};

timed_result fib_tbb(int threads, int n);
timed_result fib_asio(int threads, int n);

timed_result skynet_tbb(long threads, long leaves);
timed_result skynet_asio(long threads, long leaves);

timed_result spawn_asio(long threads, long n);

// spawn's floor: creating, running and joining n bare blocks of `block` bytes, with the ends of
// its phases (seconds since the start) when `phases` is given (created, joined, dropped).
struct spawn_phases {
  double created = 0, joined = 0, dropped = 0;
};
timed_result spawn_memory_floor(long n, long block, spawn_phases* phases);

} // namespace bench
