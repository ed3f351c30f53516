#pragma once
// Tracing: what every worker, I/O thread and offload thread did, and when, as Chrome
// trace-event JSON that opens in Perfetto (ui.perfetto.dev) or chrome://tracing.
//
//   corio::trace::start();                        // or CORIO_TRACE=trace.json in the environment
//   corio::run(amain());
//   corio::trace::stop();
//   corio::trace::write_chrome_json("trace.json");
//
// With CORIO_TRACE=path set, every corio::runtime starts tracing when it is created and writes
// the file when it is destroyed (tools/profile works this way). One track per thread: "worker N"
// shows each coroutine step as a slice (its coroutine's address in the arguments) and the spans
// it was parked; instants mark spawns, completions, steals; "io N" shows the batches of
// completions it handed over; offload threads show each job as a slice.
//
// Each thread records into a ring buffer of its own: no lock, no allocation per event; the newest
// `events_per_thread` events of each thread are kept (32 bytes each). Off, a trace point costs a
// relaxed load and a branch.
#include <cstddef>
#include <string>

namespace corio::trace {

// Starts recording (again); events from an earlier recording are dropped.
void start(std::size_t events_per_thread = std::size_t{1} << 18);
void stop() noexcept;
bool enabled() noexcept;

// The recorded events as Chrome trace-event JSON. May be called while recording (the newest
// few events of a thread that is writing may be left out).
std::string chrome_json();
// Writes chrome_json() to path; throws std::system_error if it cannot.
void write_chrome_json(const std::string& path);

// Names the calling thread's track; corio names its own threads.
void name_this_thread(std::string name);

} // namespace corio::trace
