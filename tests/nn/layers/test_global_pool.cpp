#include "nn/layers/global_pool.hpp"

#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("global_pool: shapes, values and gradients over time and over both axes") {
    using O = GlobalPoolOptions;
    const Tensor x4 = random_tensor({2, 3, 4, 5}, 1);
    const Tensor x3 = random_tensor({2, 3, 7}, 2);
    GlobalPool avg_all({O::Mode::avg, O::Axes::all});
    GlobalPool max_time({O::Mode::max, O::Axes::time});
    CHECK(avg_all.forward(x4).shape() == Shape({2, 3}));
    CHECK(max_time.forward(x4).shape() == Shape({2, 3, 4}));
    const Tensor m = max_time.forward(x3);
    CHECK(m.shape() == Shape({2, 3}));
    float best = -10;
    for (int i = 0; i < 7; ++i) best = std::max(best, x3.at(1, 2, i));
    CHECK(m.at(1, 2) == best);
    for (auto mode : {O::Mode::avg, O::Mode::max})
        for (auto axes : {O::Axes::time, O::Axes::all}) {
            GlobalPool p({mode, axes});
            CHECK(gradcheck(p, x4, 3, 1e-3f).input < 2e-3);
            CHECK(gradcheck(p, x3, 3, 1e-3f).input < 2e-3);
        }
}
