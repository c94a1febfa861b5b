#include "nn/layers/reshape.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/registry.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("reshape: views the non-batch dims in row-major order, one dim inferred") {
    Reshape r({.shape = {5, -1}});  // Keras Reshape((15, 128)) after Permute, here (N, 5, 3, 1) -> (N, 5, 3)
    const Tensor x = random_tensor({2, 5, 3, 1}, 1);
    const Tensor y = r.forward(x);
    REQUIRE(y.shape() == Shape{2, 5, 3});
    CHECK(y.shares_storage(x));
    CHECK(y.at(1, 4, 2) == x.at(1, 4, 2, 0));
    CHECK(gradcheck(r, x).input < 1e-3);
    CHECK(r.backward(random_tensor({2, 5, 3}, 2)).shape() == Shape{2, 5, 3, 1});
}

TEST_CASE("reshape: config round trip and errors") {
    Reshape r({.shape = {4, 2}});
    CHECK(build_module(r.config())->config() == r.config());
    CHECK_THROWS_AS(r.forward(random_tensor({2, 7}, 1)), mtag::Error);
    CHECK_THROWS_AS(Reshape({.shape = {-1, -1}}), mtag::Error);
    CHECK_THROWS_AS(Reshape({.shape = {}}), mtag::Error);
    CHECK_THROWS_AS(Reshape({.shape = {1, 2, 3, 4}}), mtag::Error);
    CHECK_THROWS_AS(Reshape({.shape = {0}}), mtag::Error);
}
