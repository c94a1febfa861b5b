// Tests nn/train/ema: AveragedModel's EMA semantics (first update copies), buffers averaged or not, swap().
#include "nn/train/ema.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/linear.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;

TEST_CASE("ema: first update copies, then ema = d ema + (1 - d) w, swap exchanges and restores", "[ema]") {
    Linear layer(LinearOptions{.in_features = 2, .out_features = 1});
    Parameter& w = layer.weight();
    w.data()[0] = 1;
    w.data()[1] = 2;
    ExponentialMovingAverage ema(layer, {.decay = 0.5});
    ema.update();  // copies
    w.data()[0] = 3;
    w.data()[1] = 6;
    ema.update();  // 0.5 * (1, 2) + 0.5 * (3, 6) = (2, 4)
    CHECK(ema.updates() == 2);
    ema.swap();
    CHECK(w.data()[0] == Approx(2));
    CHECK(w.data()[1] == Approx(4));
    ema.swap();
    CHECK(w.data()[0] == 3);
    CHECK(w.data()[1] == 6);
    const auto state = ema.state();
    REQUIRE(state.size() == 2);  // weight and bias
    CHECK(state[0].first == "ema.weight");
    ExponentialMovingAverage restored(layer, {.decay = 0.5});
    restored.load_state(state, 2);
    restored.swap();
    CHECK(w.data()[0] == Approx(2));
    CHECK_THROWS_WITH(ExponentialMovingAverage(layer, {.decay = 1.0}), Catch::Contains("ema.decay"));
}

TEST_CASE("ema: BatchNorm running statistics averaged with use_buffers, left live without", "[ema]") {
    BatchNorm1d bn(BatchNormOptions{.num_features = 1});
    Buffer* mean = bn.buffers().front();
    mean->value.data()[0] = 0;
    ExponentialMovingAverage with(bn, {.decay = 0.5, .use_buffers = true});
    ExponentialMovingAverage without(bn, {.decay = 0.5, .use_buffers = false});
    with.update();
    without.update();
    mean->value.data()[0] = 4;
    with.update();
    without.update();
    with.swap();
    CHECK(mean->value.data()[0] == Approx(2));
    with.swap();
    without.swap();
    CHECK(mean->value.data()[0] == 4);  // the live statistics
    without.swap();
}
