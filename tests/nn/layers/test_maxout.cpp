#include "nn/layers/maxout.hpp"

#include "dsp/error.hpp"
#include "nn/registry.hpp"

#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("maxout: each output is the largest of its consecutive group of pieces (torch view + max)") {
    // (N=2, C*k=6, L=4) with k=3: output channel c takes input channels 3c, 3c+1, 3c+2.
    const Tensor x = random_tensor({2, 6, 4}, 11, -2.0f, 2.0f);
    Maxout m(MaxoutOptions{.pieces = 3});
    const Tensor y = m.forward(x);
    REQUIRE(y.shape() == Shape{2, 2, 4});
    for (std::int64_t n = 0; n < 2; ++n)
        for (std::int64_t c = 0; c < 2; ++c)
            for (std::int64_t t = 0; t < 4; ++t) {
                float best = x[static_cast<std::size_t>((n * 6 + c * 3) * 4 + t)];
                for (std::int64_t j = 1; j < 3; ++j)
                    best = std::max(best, x[static_cast<std::size_t>((n * 6 + c * 3 + j) * 4 + t)]);
                CHECK(y[static_cast<std::size_t>((n * 2 + c) * 4 + t)] == best);
            }
}

TEST_CASE("maxout: finite-difference gradients for 2-D (Linear) and 4-D (conv) inputs") {
    for (const Shape& shape : {Shape{3, 8}, Shape{2, 6, 3, 5}}) {
        INFO(shape.str());
        const std::int64_t k = shape[1] == 8 ? 4 : 2;
        Maxout m(MaxoutOptions{.pieces = k});
        // Pieces spread apart so that a finite-difference step never changes the winner.
        Tensor x = random_tensor(shape, 5, -1.0f, 1.0f);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] += 0.1f * static_cast<float>(i % 7);
        const auto e = gradcheck(m, x, 3, 1e-3f, 200);
        CHECK(e.input < 2e-3);
    }
}

TEST_CASE("maxout: ties go to the first piece, bad shapes and options are errors, registry rebuilds it") {
    Maxout m(MaxoutOptions{.pieces = 2});
    const Tensor x = Tensor::from({1, 2}, std::vector<float>{1.0f, 1.0f});
    m.forward(x);
    const Tensor g = m.backward(Tensor::full({1, 1}, 5.0f));
    CHECK(g[0] == 5.0f);
    CHECK(g[1] == 0.0f);
    CHECK_THROWS_AS(m.forward(Tensor({2, 3})), mtag::Error);
    CHECK_THROWS_AS(Maxout(MaxoutOptions{.pieces = 1}), mtag::Error);
    const auto rebuilt = build_module(m.config());
    CHECK(rebuilt->config() == m.config());
}
