// mtag bench data: not built yet (placeholder until its issue lands).
#include "app/bench.hpp"
#include "dsp/error.hpp"

namespace mtag::app {

int bench_data(const BenchContext& /*context*/) { throw Error("mtag bench data", "not built yet"); }

}  // namespace mtag::app
