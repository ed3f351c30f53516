#include <corio/runtime.hpp>

namespace corio {

namespace {
scheduler_options scheduler_part(const runtime_options& o) {
  scheduler_options s;
  s.workers = o.workers;
  s.spin_before_park = o.spin_before_park;
  return s;
}
} // namespace

runtime::runtime(runtime_options options) : scheduler_(scheduler_part(options)) {}

runtime::~runtime() = default; // the scheduler's destructor shuts down (or aborts on a worker)

void runtime::shutdown() { scheduler_.shutdown(); }

} // namespace corio
