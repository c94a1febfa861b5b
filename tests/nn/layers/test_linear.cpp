#include "nn/layers/linear.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("linear: y = x W^T + b and gradients match finite differences") {
    Linear fc({.in_features = 5, .out_features = 3});
    fc.weight().value.copy_from(random_tensor({3, 5}, 1));
    fc.bias()->value.copy_from(random_tensor({3}, 2));
    const Tensor x = random_tensor({4, 5}, 3);
    const Tensor y = fc.forward(x);
    REQUIRE(y.shape() == Shape({4, 3}));
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 3; ++j) {
            double s = fc.bias()->value[static_cast<std::size_t>(j)];
            for (int k = 0; k < 5; ++k) s += double(x.at(i, k)) * fc.weight().value.at(j, k);
            CHECK(y.at(i, j) == Approx(s).margin(1e-5));
        }
    const auto e = gradcheck(fc, x);
    CHECK(e.input < 1e-3);
    CHECK(e.param < 1e-3);
    CHECK_THROWS_AS(fc.forward(random_tensor({4, 6}, 3)), mtag::Error);
}
