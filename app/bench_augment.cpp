// mtag bench augment: not built yet (placeholder until its issue lands).
#include "app/bench.hpp"
#include "dsp/error.hpp"

namespace mtag::app {

int bench_augment(const BenchContext& /*context*/) { throw Error("mtag bench augment", "not built yet"); }

}  // namespace mtag::app
