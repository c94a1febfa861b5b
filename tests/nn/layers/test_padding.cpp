#include "nn/layers/padding.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/registry.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("padding: ZeroPad2d pads left, right, top, bottom like torch.nn.ZeroPad2d") {
    ZeroPad2d pad({.left = 1, .right = 2, .top = 0, .bottom = 1});
    const Tensor x = random_tensor({2, 3, 2, 4}, 1);
    const Tensor y = pad.forward(x);
    REQUIRE(y.shape() == Shape{2, 3, 3, 7});
    for (std::int64_t n = 0; n < 2; ++n)
        for (std::int64_t c = 0; c < 3; ++c)
            for (std::int64_t i = 0; i < 3; ++i)
                for (std::int64_t j = 0; j < 7; ++j) {
                    const bool inside = i < 2 && j >= 1 && j < 5;
                    REQUIRE(y.at(n, c, i, j) == (inside ? x.at(n, c, i, j - 1) : 0.0f));
                }
    const auto e = gradcheck(pad, x);
    CHECK(e.input < 1e-3);
    // (N, H, W) pads its last two dims too.
    ZeroPad2d sym({.left = 2, .right = 2, .top = 1, .bottom = 1});
    CHECK(sym.forward(random_tensor({2, 3, 4}, 2)).shape() == Shape{2, 5, 8});
    CHECK(gradcheck(sym, random_tensor({2, 3, 4}, 2)).input < 1e-3);
}

TEST_CASE("padding: ZeroPad2d config round trip and errors") {
    ZeroPad2d pad({.left = 1, .right = 2, .top = 3, .bottom = 4});
    CHECK(build_module(pad.config())->config() == pad.config());
    CHECK(pad.config()["padding"] == nlohmann::json::array({1, 2, 3, 4}));
    CHECK_THROWS_AS(ZeroPad2d({.left = -1}), mtag::Error);
    CHECK_THROWS_AS(pad.forward(random_tensor({2, 3}, 1)), mtag::Error);
    pad.forward(random_tensor({1, 1, 2, 2}, 1));
    CHECK_THROWS_AS(pad.backward(random_tensor({1, 1, 2, 2}, 1)), mtag::Error);
}
