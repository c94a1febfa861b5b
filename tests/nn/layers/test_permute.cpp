#include "nn/layers/permute.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/registry.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("permute: output dim i is input dim dims[i], as torch.permute") {
    // Keras Permute((3, 1, 2)) on (N, C, 1, T): the CRNN's conv maps -> (N, T, C, 1).
    Permute p({.dims = {0, 3, 1, 2}});
    const Tensor x = random_tensor({2, 3, 4, 5}, 1);
    const Tensor y = p.forward(x);
    REQUIRE(y.shape() == Shape{2, 5, 3, 4});
    for (std::int64_t n = 0; n < 2; ++n)
        for (std::int64_t c = 0; c < 3; ++c)
            for (std::int64_t h = 0; h < 4; ++h)
                for (std::int64_t w = 0; w < 5; ++w) REQUIRE(y.at(n, w, c, h) == x.at(n, c, h, w));
    CHECK(gradcheck(p, x).input < 1e-3);
    Permute swap({.dims = {0, 2, 1}});
    const Tensor s = random_tensor({2, 3, 4}, 2);
    const Tensor t = swap.forward(s);
    REQUIRE(t.shape() == Shape{2, 4, 3});
    CHECK(t.at(1, 3, 2) == s.at(1, 2, 3));
    CHECK(gradcheck(swap, s).input < 1e-3);
}

TEST_CASE("permute: config round trip and errors") {
    Permute p({.dims = {0, 2, 3, 1}});
    CHECK(build_module(p.config())->config() == p.config());
    CHECK_THROWS_AS(Permute({.dims = {1, 0, 2}}), mtag::Error);  // the batch must stay first
    CHECK_THROWS_AS(Permute({.dims = {0, 1, 1}}), mtag::Error);
    CHECK_THROWS_AS(Permute({.dims = {0}}), mtag::Error);
    CHECK_THROWS_AS(p.forward(random_tensor({2, 3, 4}, 1)), mtag::Error);
}
