// mtag bench train: not built yet (placeholder until its issue lands).
#include "app/bench.hpp"
#include "dsp/error.hpp"

namespace mtag::app {

int bench_train(const BenchContext& /*context*/) { throw Error("mtag bench train", "not built yet"); }

}  // namespace mtag::app
