#include "nn/layers/activation.hpp"

#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("activation: values and gradients of ReLU, LeakyReLU, ELU, Sigmoid, Tanh") {
    // Inputs kept away from 0 so that finite differences do not straddle the kinks.
    Tensor x = random_tensor({3, 4, 5}, 1, -2.0f, 2.0f);
    for (float& v : x.span())
        if (std::abs(v) < 0.05f) v = 0.3f;
    std::vector<std::pair<std::shared_ptr<Module>, double (*)(double)>> cases = {
        {std::make_shared<ReLU>(), [](double v) { return v > 0 ? v : 0.0; }},
        {std::make_shared<LeakyReLU>(0.1f), [](double v) { return v > 0 ? v : 0.1 * v; }},
        {std::make_shared<ELU>(), [](double v) { return v > 0 ? v : std::expm1(v); }},
        {std::make_shared<Sigmoid>(), [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
        {std::make_shared<Tanh>(), [](double v) { return std::tanh(v); }},
    };
    for (auto& [m, f] : cases) {
        INFO(m->type());
        const Tensor y = m->forward(x);
        for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(y[i] == Approx(f(x[i])).margin(1e-6));
        const auto e = gradcheck(*m, x, 3, 1e-3f);
        CHECK(e.input < 2e-3);
    }
}

TEST_CASE("activation: inplace ReLU overwrites its input and still back-propagates") {
    ReLU relu(true);
    Tensor x = random_tensor({10}, 2);
    const Tensor keep = x.clone();
    const Tensor y = relu.forward(x);
    CHECK(y.shares_storage(x));
    const Tensor g = relu.backward(Tensor::full({10}, 1.0f));
    for (std::size_t i = 0; i < 10; ++i) CHECK(g[i] == (keep[i] > 0 ? 1.0f : 0.0f));
}
