#include "nn/layers/squeeze_excitation.hpp"

#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("squeeze_excitation: gates channels in (0, 1) and gradients match finite differences") {
    SqueezeExcitation se({.channels = 4, .hidden = 3});
    std::uint64_t seed = 1;
    for (Parameter* p : se.parameters()) p->value.copy_from(random_tensor(p->shape(), seed++));
    CHECK(se.parameters()[0]->name == "fc1.weight");
    const Tensor x = random_tensor({2, 4, 9}, 10, 0.1f, 1.0f);
    const Tensor y = se.forward(x);
    for (std::size_t i = 0; i < x.size(); ++i) {
        CHECK(y[i] < x[i]);
        CHECK(y[i] > 0.0f);
    }
    const auto e = gradcheck(se, random_tensor({2, 4, 3, 5}, 11));
    CHECK(e.input < 2e-3);
    CHECK(e.param < 2e-3);
}
